# Numeric non-root users resolve without /etc/passwd (explain cannot read it offline).
FROM python:3.12
USER 1000:1000
ENV HOME=/home/app
RUN pip install --user requests
RUN npm ci
