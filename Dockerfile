# One image for every acctsync service (docker-compose.yml builds it once, as acctsync:local).
# The default command is the embedded single-process service on SQLite, kept in /srv/var.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app app
COPY matching matching
COPY sync_rules sync_rules
COPY webhooks webhooks
COPY sandbox sandbox
COPY smarty_sandbox smarty_sandbox
COPY demo demo
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --user-group --home-dir /srv --no-create-home acctsync \
    && mkdir -p /srv/var \
    && chown acctsync:acctsync /srv/var
# Not root; a numeric user so that an orchestrator can check it (runAsNonRoot).
USER 10001:10001
# State of the default command: ./var/acctsync.db and the embedded sandbox's state.
VOLUME ["/srv/var"]
EXPOSE 8000
CMD ["acctsync", "serve", "--host", "0.0.0.0", "--port", "8000"]
