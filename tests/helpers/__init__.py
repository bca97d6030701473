"""Test helpers, kept out of the package: nothing here ships in the wheel.

Real local servers (``smtp``, ``fastsink``, ``http``, ``postgres``), certificates (``tls``),
the web app in-process (``asgi``), the command line in a child process (``cli``), test
newsletters (``newsletters``, ``gathering``, ``crash``), issues built in memory
(``sample_issue``), bounce and complaint reports as relays send and attackers forge them
(``reports``), mail domains with their DNS zones and keys for the doctor (``domains``), the
message oracle (``reference``) and golden files (``golden``).
The fixtures in ``tests/conftest.py`` start the servers; tests and ``bench/`` import
the rest as ``from helpers.smtp import ...``.
"""
