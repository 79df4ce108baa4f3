"""Flask-WTF forms (each carries a CSRF token)."""
import math
import re

from flask_wtf import FlaskForm
from wtforms import (FloatField, HiddenField, IntegerField, PasswordField,
                     StringField)
from wtforms.validators import (DataRequired, EqualTo, Length, NumberRange,
                                Regexp, ValidationError)

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


class RateForm(FlaskForm):
    movie_id = IntegerField("Movie", validators=[DataRequired()])
    rating = FloatField("Rating", validators=[
        DataRequired("Choose a rating."),
        NumberRange(0.5, 5.0, "Ratings go from 0.5 to 5 stars.")])
    next = HiddenField()

    def validate_rating(self, field):
        if field.data is None or not math.isfinite(field.data):
            raise ValidationError("Ratings go from 0.5 to 5 stars.")
        if round(field.data * 2) != field.data * 2:
            raise ValidationError("Ratings go by half stars.")


class DeleteRatingForm(FlaskForm):
    movie_id = IntegerField("Movie", validators=[DataRequired()])
    next = HiddenField()


class LogoutForm(FlaskForm):
    pass
