"""The environ-echoing app through func.WsgiFunctionApp: funchost serves it directly."""

import azure.functions as func
from environ_app import wsgi_app

app = func.WsgiFunctionApp(app=wsgi_app, http_auth_level=func.AuthLevel.ANONYMOUS)
