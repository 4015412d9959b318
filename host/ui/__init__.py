"""The local dashboard at ``/admin/ui/``: see and run the app's functions in a browser."""

PATH = "/admin/ui/"
