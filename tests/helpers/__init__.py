"""Test helpers, kept out of the package: nothing here ships in the wheel.

Real local servers: SMTP (``smtp``, ``fastsink``, ``relays`` for the benchmarks), HTTP
(``http``, ``receiver`` for webhooks), DNS (``dnsserver``), IMAP (``dovecot``), PostgreSQL
(``postgres``), headless Chromium with the web app on a port (``browser``); certificates
(``tls``); the web app in-process (``asgi``); the command line in a child process (``cli``);
a clock a test moves (``clock``) and rate limits on it (``ratelimits``).
Test newsletters and their inputs: ``newsletters``, ``gathering``, ``readers``, ``crash``,
``articles`` (a folder article), ``hostile`` and ``damage`` (feeds and bytes built to break a
reader), ``items`` and ``sample_issue`` (items and issues built in memory), ``editorial``
(the labelled story sets and their scores), ``reports`` and ``esp`` (bounce reports and ESP
webhooks as relays send and attackers forge them), ``domains`` (a sending domain's DNS
zones and keys for the doctor).
Oracles: the straightforward message builder (``reference``) and golden files (``golden``).
The fixtures in ``tests/conftest.py`` start the servers; tests and ``bench/`` import
the rest as ``from helpers.smtp import ...``.
"""
