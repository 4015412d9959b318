import azure.functions as func

from routes import bp

app = func.FunctionApp()
