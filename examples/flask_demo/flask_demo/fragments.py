"""Movie cards rendered once per distinct card, not once per request.

The recommendation pages are grids of movie cards (templates/_macros.html):
the movie (poster, title, link, genres, MovieLens stars), a score and
reasons when it is a recommendation, and the member's rate form with their
rating of it. Given those inputs and the page it is on, a card's HTML is
always the same except for the request's CSRF token, so card() keeps it,
keyed by exactly those inputs, with a slot for the token: an LRU of
MOVIEME_CARD_CACHE cards, so memory stays bounded. A member's rating of the
movie is part of the key, so a new rating shows at once; the catalogue
(titles, genres, MovieLens counts) never changes while a process runs
(engine.Catalogue). The rate form's per-request fields (CSRF token, the
page to come back to) are computed once per request.

Measured (docs/load-test.md): on the 48-card recommendations page the card
macros, with url_for and csrf_token per card, were most of the request.

Templates call:
    card(m, mine, counts, score=None, score_label='predicted', because=())
                   the movie_card macro's output for movie m
    form_fields()  {csrf, next, rate_url, delete_url} of this request
    link(endpoint) url_for(endpoint) of an endpoint without arguments (the
                   navigation of every page), built once per script root
"""
import functools
import secrets

from flask import g, request, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape


def init_app(app):
    size = app.config["MOVIEME_CARD_CACHE"]
    slot = "csrf-slot-" + secrets.token_hex(16)   # in no title, escapes to itself

    def render(args, page):
        """The card's HTML split at the CSRF token's places."""
        fields = dict(zip(("next", "rate_url", "delete_url"), page), csrf=slot)
        # template.module: the macros module, made once by Jinja
        macros = app.jinja_env.get_template("_macros.html").module
        return tuple(str(macros.movie_card(*args, fields)).split(slot))

    kept = functools.lru_cache(maxsize=size)(render)

    def form_fields():
        fields = g.get("_movieme_form_fields")
        if fields is None:
            fields = g._movieme_form_fields = {
                "csrf": generate_csrf(),
                "next": request.full_path if request.query_string else request.path,
                "rate_url": url_for("main.rate"),
                "delete_url": url_for("main.delete_rating"),
                "root": request.script_root,    # in every link of a card
            }
        return fields

    def card(m, mine, counts, score=None, score_label="predicted", because=()):
        if m is None:
            return Markup("")
        f = form_fields()
        args = (m, counts.get(m.movie_id, (0, 0.0)), score, score_label,
                tuple(because), mine.get(m.movie_id))
        page = (f["next"], f["rate_url"], f["delete_url"], f["root"])
        # templates reloaded on change (debug): never serve an old card
        parts = (render if app.jinja_env.auto_reload else kept)(args, page)
        return Markup(str(escape(f["csrf"])).join(parts))

    links = {}

    def link(endpoint):
        key = (request.script_root, endpoint)
        url = links.get(key)
        if url is None:
            url = url_for(endpoint)
            if len(links) < 1024:       # script roots come from the request
                links[key] = url
        return url

    app.jinja_env.globals.update(card=card, form_fields=form_fields, link=link)
