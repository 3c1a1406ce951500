# One image for the three IPR Watch services: `iprwatch ingest | indicators | alerts`.
# docker-compose.yml runs it three times; every setting comes from IPRWATCH_* variables.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 iprwatch \
 && useradd --system --uid 10001 --gid iprwatch --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin iprwatch

# The charts in alert mail are drawn with a CJK font (shared/charts/: Noto Sans CJK SC).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY iprwatch ./iprwatch
COPY deploy/plans ./deploy/plans
COPY deploy/alerts ./deploy/alerts
# Installed in place so that the bundled plan and recipients resolve under /app.
RUN pip install -e . \
 && mkdir -p /data \
 && chown iprwatch:iprwatch /data

# State that must survive a restart (ingest's tokens file) lives in /data, a volume.
ENV IPRWATCH_HOME=/data \
    IPRWATCH_PLAN_FILE=/app/deploy/plans/chongqing-14th-fyp.yaml
VOLUME ["/data"]
USER iprwatch
EXPOSE 8001 8002 8003

# Alive if whichever service runs here answers /healthz (compose checks /readyz per service).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["python", "-c", "import urllib.request as u\nfor port in (8001, 8002, 8003):\n    try:\n        u.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2)\n        raise SystemExit(0)\n    except OSError:\n        pass\nraise SystemExit(1)"]

ENTRYPOINT ["iprwatch"]
CMD ["--help"]
