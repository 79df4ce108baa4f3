"""Configuration from the environment, with development, production and
testing profiles (select with MOVIEME_ENV; default: development).

Every setting can be overridden by an environment variable of the same name
(prefixed MOVIEME_ for the demo's own settings); see README.md.
"""
import json
import os

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_float(name, default):
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_bool(name, default):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


class BaseConfig:
    # Flask / security
    SECRET_KEY = None                    # SECRET_KEY env, else instance/secret_key
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 7 * 24 * 3600
    # an unchanged session cookie is re-sent once older than this (sessions.py)
    MOVIEME_SESSION_REFRESH = 3600
    MAX_CONTENT_LENGTH = 64 * 1024       # oversized bodies get 413
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None           # token valid for the session's life
    SQLALCHEMY_DATABASE_URI = None       # DATABASE_URL env, else instance SQLite
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # Login rate limit: failures within the window, per username and per IP
    LOGIN_WINDOW_SECONDS = 15 * 60
    LOGIN_MAX_PER_USER = 5
    LOGIN_MAX_PER_IP = 20

    # Recommender
    MOVIEME_DATA = os.path.join(REPO_ROOT, "data", "ml-latest-small")
    MOVIEME_MODEL_PATH = None            # default: instance/model.bin
    MOVIEME_MEMBER_ID_OFFSET = 1_000_000  # member u -> model user id offset+u
    MOVIEME_RANK = 32
    MOVIEME_ITERATIONS = 10
    # None: the library's defaults (rec_als_params_init), which shrink rarely
    # rated movies toward the mean themselves (bias_prior).
    MOVIEME_REG = None
    MOVIEME_BIAS_REG = None
    MOVIEME_SEED = 42
    MOVIEME_THREADS = 0
    # "hybrid" (the library's default model: a rating model for the stars
    # and a preference model for the ranking), "explicit" (rating model only,
    # ranks by predicted rating) or "implicit" (each rating an interaction of
    # confidence 1 + alpha; scores are preferences).
    MOVIEME_ALS_MODE = "hybrid"
    MOVIEME_ALPHA = 1.0
    # Candidate control, done by the library (rec_top_n_options.min_count):
    # the training ratings a recommended movie needs (0: the ranking alone
    # decides) and a similar movie needs (a 1-rating film is "87% similar"
    # to anything by its noisy factors).
    MOVIEME_MIN_COUNT = 0
    MOVIEME_SIMILAR_MIN_COUNT = 10
    # "Because you rated X and Y": at most this many of the member's movies,
    # each rated at least MOVIEME_LIKED_MIN and adding to the score.
    MOVIEME_REASONS = 2
    MOVIEME_LIKED_MIN = 3.5
    MOVIEME_QUICK_N = 12
    MOVIEME_FULL_N = 48
    MOVIEME_QUICK_MIN_RATINGS = 3        # quick recs after this many ratings
    MOVIEME_RETRAIN_INTERVAL = 15 * 60   # seconds between scheduled retrains
    MOVIEME_RETRAIN_MIN_RATINGS = 25     # new ratings that trigger a retrain
    MOVIEME_RETRAIN_MIN_GAP = 60         # seconds: new members waiting trigger one
    MOVIEME_BEST_MIN_COUNT = 20          # best movies: at least this many ratings
    MOVIEME_WORKER_POLL = 5.0            # seconds between job-table polls
    MOVIEME_BACKGROUND = True            # run the retrain thread in-process
    MOVIEME_RETRAIN_API = True           # POST /api/retrain allowed for members
    MOVIEME_MODEL_CHECK_SECONDS = 2.0    # how often a worker stats the model file
    MOVIEME_TRAIN_DELAY = 0.0            # test hook: sleep before training
    # Kept per process (an LRU each): rendered movie cards (fragments.py) and
    # the model's answers for the pages (model_cache.py), in entries.
    MOVIEME_CARD_CACHE = 4096
    MOVIEME_MODEL_CACHE = 4096
    # Test hook (faults.py): retrain steps at which the worker pauses and
    # writes a marker file, so a test can kill it there. Empty: off.
    MOVIEME_FAULT_STEPS = ""
    MOVIEME_FAULT_DIR = None             # default: the instance folder
    MOVIEME_FAULT_WAIT = 120.0           # seconds at most at each pause
    # Tuning (tuning.py, docs/tuning.md): the parameters are searched on a
    # validation split of the training data at the first training, then
    # after MOVIEME_TUNE_EVERY trainings or when the last tuning is older
    # than MOVIEME_TUNE_MAX_AGE seconds (0: not by that rule); the trainings
    # in between use the stored choice. The grid: movieme.tune_als's lists.
    MOVIEME_TUNE = True
    MOVIEME_TUNE_EVERY = 20
    MOVIEME_TUNE_MAX_AGE = 24 * 3600
    MOVIEME_TUNE_FRACTION = 0.1
    # (measured on ml-latest-small 90/10, docs/tuning.md: test RMSE 0.8392
    # -> 0.8381, nDCG@10 0.2262 -> 0.2272, about 9 s of tuning on 2 cores)
    MOVIEME_TUNE_GRID = {"regs": [0.3, 0.2, 0.16, 0.14, 0.12, 0.1, 0.08],
                         "bias_regs": [0.1, 0.03], "bias_priors": [0.5, 2.0],
                         "blends": [0.2, 0.4, 0.8]}


class DevelopmentConfig(BaseConfig):
    DEBUG = False


class ProductionConfig(BaseConfig):
    SESSION_COOKIE_SECURE = _env_bool("MOVIEME_SECURE_COOKIES", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    MOVIEME_RETRAIN_API = False


class TestingConfig(BaseConfig):
    TESTING = True
    MOVIEME_BACKGROUND = False
    MOVIEME_RANK = 8
    MOVIEME_ITERATIONS = 5
    MOVIEME_MODEL_CHECK_SECONDS = 0.0
    MOVIEME_TUNE = False                 # tests that tune turn it on


PROFILES = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}

# Environment overrides: name -> parser
_OVERRIDES = {
    "MOVIEME_DATA": str, "MOVIEME_MODEL_PATH": str,
    "MOVIEME_MEMBER_ID_OFFSET": int, "MOVIEME_RANK": int,
    "MOVIEME_ITERATIONS": int, "MOVIEME_REG": float, "MOVIEME_BIAS_REG": float, "MOVIEME_SEED": int,
    "MOVIEME_THREADS": int, "MOVIEME_MIN_COUNT": int,
    "MOVIEME_SIMILAR_MIN_COUNT": int, "MOVIEME_REASONS": int,
    "MOVIEME_LIKED_MIN": float, "MOVIEME_QUICK_MIN_RATINGS": int,
    "MOVIEME_RETRAIN_INTERVAL": float, "MOVIEME_RETRAIN_MIN_RATINGS": int,
    "MOVIEME_RETRAIN_MIN_GAP": float, "MOVIEME_BEST_MIN_COUNT": int,
    "MOVIEME_WORKER_POLL": float, "MOVIEME_BACKGROUND": "bool",
    "MOVIEME_RETRAIN_API": "bool", "MOVIEME_MODEL_CHECK_SECONDS": float,
    "MOVIEME_TRAIN_DELAY": float, "MOVIEME_FAULT_STEPS": str,
    "MOVIEME_FAULT_DIR": str, "MOVIEME_FAULT_WAIT": float, "MOVIEME_ALS_MODE": str, "MOVIEME_ALPHA": float,
    "MOVIEME_TUNE": "bool", "MOVIEME_TUNE_EVERY": int,
    "MOVIEME_TUNE_MAX_AGE": float, "MOVIEME_TUNE_FRACTION": float,
    "MOVIEME_TUNE_GRID": json.loads,
    "MOVIEME_CARD_CACHE": int, "MOVIEME_MODEL_CACHE": int,
    "MOVIEME_SESSION_REFRESH": float,
    "LOGIN_MAX_PER_USER": int, "LOGIN_MAX_PER_IP": int,
    "LOGIN_WINDOW_SECONDS": int,
}


def load_config(app, profile=None, overrides=None):
    """Fill app.config from the profile, then the environment, then `overrides`."""
    profile = profile or os.environ.get("MOVIEME_ENV", "development")
    if profile not in PROFILES:
        raise ValueError("MOVIEME_ENV must be one of %s" % ", ".join(PROFILES))
    app.config.from_object(PROFILES[profile])
    app.config["MOVIEME_PROFILE"] = profile
    for name, kind in _OVERRIDES.items():
        if os.environ.get(name) not in (None, ""):
            if kind == "bool":
                app.config[name] = _env_bool(name, False)
            else:
                app.config[name] = kind(os.environ[name])
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if overrides:
        app.config.update(overrides)
    if app.config["MOVIEME_ALS_MODE"] not in ("hybrid", "explicit", "implicit"):
        raise ValueError("MOVIEME_ALS_MODE must be hybrid, explicit or implicit")
