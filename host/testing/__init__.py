"""The pytest plugin for users' own tests: their app served in-process by the real host.

Registered through the ``pytest11`` entry point as ``funchost.host.testing.plugin``; this
package's ``__init__`` imports nothing, so a test session that never asks for the fixtures
loads neither aiohttp nor an Azure SDK. README.md, "Testing your app", shows the use.
"""
