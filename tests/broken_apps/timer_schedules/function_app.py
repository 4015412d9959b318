import azure.functions as func

app = func.FunctionApp()


@app.route(route="hello")
def hello(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("hello")


@app.timer_trigger(arg_name="timer", schedule="%GoodSchedule%")
def from_setting(timer: func.TimerRequest) -> None:
    pass


@app.timer_trigger(arg_name="timer", schedule="every five minutes")
def words(timer: func.TimerRequest) -> None:
    pass


@app.timer_trigger(arg_name="timer", schedule="0 0 25 * * *")
def hour_25(timer: func.TimerRequest) -> None:
    pass


@app.timer_trigger(arg_name="timer", schedule="0 0 0 * * 7")
def sunday_7(timer: func.TimerRequest) -> None:
    pass


@app.timer_trigger(arg_name="timer", schedule="0 0 0 L * *")
def last_day(timer: func.TimerRequest) -> None:
    pass


@app.timer_trigger(arg_name="timer", schedule="0 0 0 30 2 *")
def february_30(timer: func.TimerRequest) -> None:
    pass


@app.timer_trigger(arg_name="timer", schedule="00:00:00")
def zero_interval(timer: func.TimerRequest) -> None:
    pass


@app.timer_trigger(arg_name="timer", schedule="%BadSchedule%")
def bad_setting(timer: func.TimerRequest) -> None:
    pass


@app.timer_trigger(arg_name="timer", schedule="%MissingSchedule%")
def missing_setting(timer: func.TimerRequest) -> None:
    pass
