FROM python:3.12
RUN pip install pdm
WORKDIR /app
COPY pyproject.toml pdm.lock ./
RUN pdm install --prod
