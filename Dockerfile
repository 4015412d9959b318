# funchost in a container: an Azure Functions Python v2 app served without .NET or Core Tools.
#
#   docker build -t myapp --build-arg APP=path/to/app .     (from this repository's root)
#   docker run -p 8080:80 -e AzureWebJobsStorage=... myapp
#
# The base is named by tag, not digest: a rebuild picks up the tag's security updates.
FROM python:3.11-slim-bookworm

# The app's folder, relative to the build context (function_app.py, host.json, requirements.txt).
ARG APP=examples/hello

# As the official Functions images: the app lives in /home/site/wwwroot and the host finds it
# there by AzureWebJobsScriptRoot. FUNCHOST_ADDRESS and FUNCHOST_PORT make the command
# `funchost start --address 0.0.0.0 --port 80`, and `-e FUNCHOST_PORT=8080` moves the listener
# and the HEALTHCHECK together. Keys and timer state go to the user's home: the app's folder
# belongs to root and stays read-only. No Azurite here: storage is a real account. No reload:
# `docker run -t` gives a terminal, where it would be on, and an image's code never changes.
ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    FUNCTIONS_WORKER_RUNTIME=python \
    FUNCHOST_ADDRESS=0.0.0.0 \
    FUNCHOST_PORT=80 \
    FUNCHOST_NO_AZURITE=1 \
    FUNCHOST_RELOAD=0 \
    FUNCTIONS_SECRETS_PATH=/home/funchost/secrets \
    FUNCHOST_STATE_DIR=/home/funchost/state \
    PATH=/opt/funchost/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# funchost only, into a venv without pip (the base image's pip installs into it). Every
# dependency has a wheel for the slim image's platforms, so no compiler is ever installed.
COPY pyproject.toml setup.py README.md /tmp/funchost/
COPY src /tmp/funchost/src
COPY host /tmp/funchost/host
COPY worker /tmp/funchost/worker
COPY bindings /tmp/funchost/bindings
RUN python -m venv --without-pip /opt/funchost && python -m pip --python /opt/funchost/bin/python install --no-cache-dir /tmp/funchost && rm -rf /tmp/funchost

COPY ${APP} /home/site/wwwroot
RUN if [ -f /home/site/wwwroot/requirements.txt ]; then python -m pip --python /opt/funchost/bin/python install --no-cache-dir -r /home/site/wwwroot/requirements.txt; fi

RUN useradd --system --uid 10001 --create-home --home-dir /home/funchost funchost
USER 10001
WORKDIR /home/site/wwwroot

EXPOSE 80
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "-m", "funchost.host.ci.ping"]
CMD ["funchost", "start"]
