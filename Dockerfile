# newsmon daemon image. Build: docker build -t newsmon .
# Run:  docker run -d -v newsmon-data:/data newsmon
# The database lives on the /data volume; the process runs as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NEWSMON_DATABASE_URL=sqlite:////data/newsmon.db

WORKDIR /app
# Dependencies first (exact versions, hash-checked), so code changes rebuild fast.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY extractors ./extractors
COPY storage ./storage
COPY config ./config
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin newsmon \
    && mkdir -p /data && chown newsmon /data

USER newsmon
VOLUME ["/data"]
# SIGTERM lets the unit in hand commit; give it the fetch deadline plus margin.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5m --timeout=30s CMD ["newsmon", "status", "--json"]
ENTRYPOINT ["newsmon"]
CMD ["run"]
