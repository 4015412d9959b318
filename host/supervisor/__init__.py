"""Running the host as more than one process: hot reload and ``--workers``.

As uvicorn's ``supervisors/``: the supervisor owns the listening socket and the emulators and
never serves; each worker is a plain ``funchost start`` child that serves on the inherited
socket (slot.py is the child's side). multiprocess.py starts, replaces and retires workers;
watchfilesreload.py turns saves into reloads.
"""
