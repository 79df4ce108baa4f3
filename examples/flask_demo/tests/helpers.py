"""Helpers for the demo site's tests (imported by conftest.py and the tests):
a generated MovieLens-style dataset, the database URL, and form helpers
(CSRF token, register, login, logout, rate)."""
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(HERE))

GENRES = ["Action", "Adventure", "Animation", "Children", "Comedy", "Crime",
          "Drama", "Horror", "Romance", "Sci-Fi", "Thriller", "Western"]
XSS_TITLE = '<script>alert("owned")</script> & Friends (1999)'
XSS_MOVIE_ID = 999


def make_dataset(path, n_movies=120, n_users=60, seed=7):
    """A MovieLens-style directory (movies.csv, ratings.csv) with two taste
    groups, so recommendations have structure."""
    rng = random.Random(seed)
    os.makedirs(path, exist_ok=True)
    movies = []
    for mid in range(1, n_movies + 1):
        g = [GENRES[mid % len(GENRES)]]
        if mid % 3 == 0:
            g.append(GENRES[(mid * 7) % len(GENRES)])
        year = 1950 + (mid * 7) % 70
        movies.append((mid, "Movie %03d (%d)" % (mid, year), "|".join(dict.fromkeys(g))))
    movies.append((XSS_MOVIE_ID, XSS_TITLE, "Comedy"))
    movies.append((1000, "Star Wars: Episode IV - A New Hope (1977)", "Action|Adventure|Sci-Fi"))
    movies.append((1001, "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Comedy|Romance"))
    with open(os.path.join(path, "movies.csv"), "w", encoding="utf-8") as f:
        f.write("movieId,title,genres\n")
        for mid, title, genres in movies:
            f.write('%d,"%s",%s\n' % (mid, title.replace('"', '""'), genres))
    with open(os.path.join(path, "ratings.csv"), "w", encoding="utf-8") as f:
        f.write("userId,movieId,rating,timestamp\n")
        ids = [m[0] for m in movies]
        for u in range(1, n_users + 1):
            group = u % 2
            for mid in rng.sample(ids, 40):
                liked = (mid % 2 == group)
                base = 4.0 if liked else 2.0
                r = min(5.0, max(0.5, base + rng.choice([-1, -0.5, 0, 0.5, 1])))
                if mid <= 10:          # a few very popular movies
                    r = max(r, 3.5)
                f.write("%d,%d,%.1f,%d\n" % (u, mid, r, 1000000 + u))
    return path


def database_url(tmp_path):
    url = os.environ.get("MOVIEME_TEST_DATABASE_URL")
    if not url:
        return "sqlite:///" + os.path.join(str(tmp_path), "site.db")
    # Start every test from empty tables.
    import sqlalchemy
    from flask_demo.models import db
    engine = sqlalchemy.create_engine(url)
    db.metadata.drop_all(engine)
    engine.dispose()
    return url


BASE_OVERRIDES = {
    "MOVIEME_BEST_MIN_COUNT": 3,
    "MOVIEME_SIMILAR_MIN_COUNT": 0,  # every movie may be listed (exact checks)
    "MOVIEME_QUICK_MIN_RATINGS": 3,
    "MOVIEME_RETRAIN_MIN_RATINGS": 10,
    "MOVIEME_RETRAIN_INTERVAL": 3600,
    "MOVIEME_RETRAIN_MIN_GAP": 0,
    "MOVIEME_BACKGROUND": False,
    "LOGIN_MAX_PER_USER": 5,
    "LOGIN_MAX_PER_IP": 20,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:2000",   # fast hashing for tests
}


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url="/login"):
    html = client.get(url).get_data(as_text=True)
    m = CSRF_RE.search(html)
    assert m, "no CSRF token in %s" % url
    return m.group(1)


def register(client, username="alice", password="correct horse", email=None):
    token = csrf_token(client, "/register")
    return client.post("/register", data={
        "csrf_token": token, "username": username,
        "email": email or "%s@example.org" % username,
        "password": password, "confirm": password})


def login(client, username="alice", password="correct horse", next_url=None):
    token = csrf_token(client, "/login")
    data = {"csrf_token": token, "username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login", data=data)


def logout(client):
    token = csrf_token(client, "/")
    return client.post("/logout", data={"csrf_token": token})


def rate(client, movie_id, rating, next_url="/ratings"):
    token = csrf_token(client, "/")
    return client.post("/rate", data={"csrf_token": token, "movie_id": movie_id,
                                      "rating": rating, "next": next_url})
