FROM python:3.11-slim
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app app
COPY matching matching
COPY sync_rules sync_rules
COPY webhooks webhooks
COPY sandbox sandbox
COPY demo demo
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["acctsync", "serve", "--host", "0.0.0.0"]
