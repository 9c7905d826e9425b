FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=3000
WORKDIR /app

COPY pyproject.toml README.md ./
COPY borker ./borker
COPY bot ./bot
RUN pip install --no-cache-dir . && useradd --create-home borker && mkdir /data && chown borker /data
USER borker

# The embedded SQLite database lives on a volume; set BORKER_DATABASE_URL for PostgreSQL.
ENV BORKER_DATABASE_URL=sqlite:////data/borker.db
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
CMD ["borker", "serve"]
