"""Flask-WTF forms (each carries a CSRF token). Numeric fields follow
limits.py: a rating or id at any extreme is a form error, never a 500."""
import re

from flask_wtf import FlaskForm
from wtforms import (FloatField, HiddenField, IntegerField, PasswordField,
                     StringField)
from wtforms.validators import (DataRequired, EqualTo, Length, Regexp,
                                ValidationError)

from .limits import half_star, valid_id

USERNAME_RE = r"^[A-Za-z0-9_.-]+$"
EMAIL_RE = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


def _email(form, field):
    if not EMAIL_RE.match(field.data or ""):
        raise ValidationError("Enter a valid email address.")


class RegisterForm(FlaskForm):
    username = StringField("Username", validators=[
        DataRequired("Choose a username."),
        Length(3, 30, "The username must have 3 to 30 characters."),
        Regexp(USERNAME_RE, message="Use only letters, digits, '.', '_' and '-'.")])
    email = StringField("Email", validators=[
        DataRequired("Enter your email address."), Length(max=254), _email])
    password = PasswordField("Password", validators=[
        DataRequired("Choose a password."),
        Length(8, 128, "The password must have 8 to 128 characters.")])
    confirm = PasswordField("Repeat password", validators=[
        DataRequired("Repeat the password."),
        EqualTo("password", "The passwords do not match.")])


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired("Enter your username."),
                                                   Length(max=40)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."),
                                                     Length(max=128)])
    next = HiddenField()


def _movie_id(form, field):
    # not wtforms' NumberRange: it calls math.isnan(), which raises
    # OverflowError for a 400-digit int
    if not valid_id(field.data):
        raise ValidationError("Unknown movie.")


def _movie_id_field():
    return IntegerField("Movie", validators=[DataRequired(), _movie_id])


class RateForm(FlaskForm):
    movie_id = _movie_id_field()
    rating = FloatField("Rating", validators=[DataRequired("Choose a rating.")])
    next = HiddenField()

    def validate_rating(self, field):
        # one check, range first: 1e308 * 2 is inf and round(inf) raises
        if not half_star(field.data):
            raise ValidationError("Ratings go from 0.5 to 5 stars, by half stars.")


class DeleteRatingForm(FlaskForm):
    movie_id = _movie_id_field()
    next = HiddenField()


class LogoutForm(FlaskForm):
    pass
