"""Two warmup triggers: the first is not named warmup (Azure would never run it), the
second cannot be loaded because an app has one warmup function."""

import logging

import azure.functions as func

app = func.FunctionApp()


@app.warm_up_trigger(arg_name="ctx")
def prime_cache(ctx) -> None:  # type: ignore[no-untyped-def]
    logging.info("primed")


@app.warm_up_trigger(arg_name="ctx")
def warmup(ctx) -> None:  # type: ignore[no-untyped-def]
    """A second warmup function: only one can own /admin/warmup."""
    logging.info("second")
