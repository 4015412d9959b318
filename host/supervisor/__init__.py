"""Running the host as more than one process: hot reload and ``--workers``.

As uvicorn's ``supervisors/``: the supervisor owns the listening socket and the emulators and
never serves; each worker is a plain ``funchost start`` child that serves the connections
the supervisor accepts and hands over (slot.py is the child's side). config.py decides at
every start whether to supervise (and imports nothing heavy); start.py runs the supervisor;
multiprocess.py starts, replaces and retires workers and deals connections to them
(workers.py: one worker process); watchfilesreload.py turns saves into reloads.
"""
