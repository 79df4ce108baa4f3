"""Registration, login and logout."""
from flask import (Blueprint, flash, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from .forms import LoginForm, LogoutForm, RegisterForm
from .models import User, db
from .security import clear_failures, login_blocked, record_failure, safe_next

bp = Blueprint("auth", __name__)


def find_user(username):
    return User.query.filter(func.lower(User.username) == username.lower()).first()


_DUMMY_HASH = None


def authenticate(username, password):
    """The member with these credentials, or None. An unknown username costs
    the same password-hash time as a wrong password (no timing oracle)."""
    global _DUMMY_HASH
    user = find_user(username)
    if user is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = User(username="-", email="-")
            _DUMMY_HASH.set_password("not a password")
        _DUMMY_HASH.check_password(password)
        return None
    return user if user.check_password(password) else None


def start_session(user):
    """A fresh session at login: nothing from before survives (fixation)."""
    session.clear()
    login_user(user)
    session.permanent = True


def end_session(user):
    """Log out everywhere: old session cookies stop working."""
    user.session_version = (user.session_version or 1) + 1
    db.session.commit()
    logout_user()
    session.clear()


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        email = form.email.data.strip().lower()
        if find_user(username):
            form.username.errors.append("This username is taken.")
        elif User.query.filter(func.lower(User.email) == email).first():
            form.email.errors.append("An account with this email already exists.")
        else:
            user = User(username=username, email=email)
            user.set_password(form.password.data)
            db.session.add(user)
            try:
                db.session.commit()
            except IntegrityError:    # a concurrent registration won the race
                db.session.rollback()
                form.username.errors.append("This username or email is taken.")
            else:
                start_session(user)
                flash("Welcome, %s! Rate a few movies to get recommendations." % user.username,
                      "success")
                return redirect(url_for("main.popular"))
        return render_template("auth/register.html", form=form), 400
    return render_template("auth/register.html", form=form), (400 if request.method == "POST" else 200)


@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.values.get("next"), url_for("main.home"))
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    if request.method == "GET":
        form.next.data = target
    if form.validate_on_submit():
        username = form.username.data.strip()
        if login_blocked(username):
            return render_template("auth/login.html", form=form,
                                   error="Too many failed attempts. Wait a few minutes "
                                         "and try again."), 429
        user = authenticate(username, form.password.data)
        if user is None:
            record_failure(username)
            return render_template("auth/login.html", form=form,
                                   error="Wrong username or password."), 401
        clear_failures(username)
        start_session(user)
        return redirect(target)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=None), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        return redirect(url_for("main.home"))
    end_session(current_user._get_current_object())
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
