FROM python:3.11-slim
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY fintropy fintropy
COPY bot bot
COPY workflows workflows
COPY activities activities
COPY rules rules
COPY adapters adapters
RUN uv sync --frozen --no-dev && ln -s /app/.venv/bin/fintropy /usr/local/bin/fintropy
ENV PATH="/app/.venv/bin:${PATH}"
