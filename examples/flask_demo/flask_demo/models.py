"""Database tables: the database is the source of truth for members and their
ratings; recommendations and retrain jobs are kept here too."""
import datetime as dt

from flask import current_app
from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
from werkzeug.security import check_password_hash, generate_password_hash

db = SQLAlchemy()


def utcnow():
    return dt.datetime.utcnow()


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(40), unique=True, nullable=False, index=True)
    email = db.Column(db.String(254), unique=True, nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    created_at = db.Column(db.DateTime, default=utcnow, nullable=False)
    # Bumped at logout: Flask-Login ids carry it, so old session cookies die.
    session_version = db.Column(db.Integer, default=1, nullable=False)

    def set_password(self, password):
        method = current_app.config.get("PASSWORD_HASH_METHOD") or "pbkdf2:sha256"
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def get_id(self):
        return "%d:%d" % (self.id, self.session_version or 1)


class Rating(db.Model):
    __tablename__ = "ratings"
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True)
    movie_id = db.Column(db.Integer, primary_key=True)
    rating = db.Column(db.Float, nullable=False)
    updated_at = db.Column(db.DateTime, default=utcnow, onupdate=utcnow,
                           nullable=False, index=True)


class Recommendation(db.Model):
    """A member's full recommendations from the last retrain that knew them."""
    __tablename__ = "recommendations"
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"),
                        primary_key=True)
    position = db.Column(db.Integer, primary_key=True)
    movie_id = db.Column(db.Integer, nullable=False)
    score = db.Column(db.Float, nullable=False)
    # the predicted rating (library's, clamped to the rating range); NULL in
    # rows written before 0.2 (added by add_missing_columns)
    rating = db.Column(db.Float, nullable=True)
    job_id = db.Column(db.Integer, nullable=False)
    created_at = db.Column(db.DateTime, default=utcnow, nullable=False)


class RetrainJob(db.Model):
    """A retrain request: pending -> running -> done | failed. A job left
    'running' by a killed process goes back to 'pending' at the next start."""
    __tablename__ = "retrain_jobs"
    id = db.Column(db.Integer, primary_key=True)
    status = db.Column(db.String(10), nullable=False, default="pending", index=True)
    reason = db.Column(db.String(20), nullable=False)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(db.DateTime, default=utcnow, nullable=False)
    started_at = db.Column(db.DateTime)
    finished_at = db.Column(db.DateTime)
    snapshot_at = db.Column(db.DateTime)   # ratings up to here are included
    n_ratings = db.Column(db.Integer)      # members' ratings trained on
    seconds = db.Column(db.Float)
    error = db.Column(db.String(500))
    iteration = db.Column(db.Integer)      # training progress, while running
    iterations = db.Column(db.Integer)

    def as_dict(self):
        iso = lambda d: d.isoformat() + "Z" if d else None
        return {"id": self.id, "status": self.status, "reason": self.reason,
                "attempts": self.attempts, "created_at": iso(self.created_at),
                "started_at": iso(self.started_at),
                "finished_at": iso(self.finished_at),
                "n_member_ratings": self.n_ratings, "seconds": self.seconds,
                "iteration": self.iteration, "iterations": self.iterations,
                "error": self.error}


class ModelTuning(db.Model):
    """A tuning of the model's parameters (tuning.py): what was searched,
    what was chosen and its validation scores; the latest row's parameters
    are those every retrain uses until the next tuning, which also counts
    them (trainings, the last one's time and ratings)."""
    __tablename__ = "model_tunings"
    id = db.Column(db.Integer, primary_key=True)
    tuned_at = db.Column(db.DateTime, default=utcnow, nullable=False)
    mode = db.Column(db.String(10), nullable=False)    # MOVIEME_ALS_MODE
    reason = db.Column(db.String(20), nullable=False)  # first | every | age
    seconds = db.Column(db.Float, nullable=False)
    n_ratings = db.Column(db.Integer, nullable=False)  # tuned on (all)
    metric = db.Column(db.String(10), nullable=False)  # rmse | ndcg
    k = db.Column(db.Integer, nullable=False)          # nDCG@k
    val_rmse = db.Column(db.Float, nullable=False)
    val_ndcg = db.Column(db.Float, nullable=False)
    n_points = db.Column(db.Integer, nullable=False)
    grid = db.Column(db.Text, nullable=False)          # JSON: lists searched
    chosen = db.Column(db.Text, nullable=False)        # JSON: their best values
    best = db.Column(db.Text, nullable=False)          # JSON: every parameter
                                                       # of the best (defaults too)
    # the trainings with these parameters since (the last one's parameters
    # in full, its time and ratings)
    trainings = db.Column(db.Integer, nullable=False, default=0)
    trained_at = db.Column(db.DateTime)
    trained_ratings = db.Column(db.Integer)
    trained_params = db.Column(db.Text)                # JSON


class LoginAttempt(db.Model):
    """Failed logins, for the rate limit (shared by all worker processes)."""
    __tablename__ = "login_attempts"
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(40), nullable=False, index=True)
    ip = db.Column(db.String(64), nullable=False, index=True)
    at = db.Column(db.DateTime, default=utcnow, nullable=False, index=True)


def add_missing_columns(engine):
    """A minimal migration: add the nullable columns that a newer version of
    these tables has and an existing database lacks (create_all only creates
    missing tables)."""
    import sqlalchemy as sa
    inspector = sa.inspect(engine)
    for table in db.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have and column.nullable:
                ddl = "ALTER TABLE %s ADD COLUMN %s %s" % (
                    table.name, column.name, column.type.compile(engine.dialect))
                with engine.begin() as conn:
                    conn.execute(sa.text(ddl))
