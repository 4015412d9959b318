"""The scope-echoing app through func.AsgiFunctionApp: funchost serves it directly."""

import azure.functions as func
from scope_api import api

app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)
