"""Commands that run things on this machine: the demo and the web app."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter import demo, sink
from newsletter.cli.app import open_app, print_send
from newsletter.cli.base import cli, load_config
from newsletter.progress import for_terminal


@cli.command("demo")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-output"),
              show_default=True, help="Folder for the demo's database and delivered mail.")
@click.option("--serve", "keep_serving", is_flag=True,
              help="Then keep the SMTP sink and the web app (with a mail view) running until Ctrl-C.")
@click.option("--host", default=None, help="With --serve: address to listen on (default: web.host).")
@click.option("--port", type=int, default=None, help="With --serve: port (default: web.port; 0: any free one).")
@click.pass_context
def demo_command(ctx: click.Context, out: Path, keep_serving: bool, host: str | None, port: int | None) -> None:
    """Send one issue of this newsletter to demo readers through an embedded SMTP sink."""
    app = open_app(ctx)
    progress = for_terminal(quiet=ctx.obj["quiet"])

    def announce(result: demo.DemoResult) -> None:
        print_send(result.report, False)
        click.echo(f"delivered mail: {result.folder / 'mail'} ({len(result.messages)} messages, .eml and .html)")
        click.echo(f"open in a browser: {result.index.resolve().as_uri()}")

    if keep_serving:
        web = app.config.web
        printed: list[bool] = []

        def ready(result: demo.DemoResult, line: str) -> None:
            if not printed:
                printed.append(True)
                announce(result)
            click.echo(line)

        demo.serve(app.config, out, host=host or web.host, port=web.port if port is None else port, ready=ready)
        return
    with progress:
        result = demo.run(app.config, out, progress=progress)
    announce(result)


@cli.command("serve")
@click.option("--host", default=None, help="Address to listen on (default: web.host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: web.port, 8000; 0: any free one).")
@click.pass_context
def serve_command(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the web app: sign-up, confirm, preferences, unsubscribe, archive, editor's desk, JSON API."""
    from newsletter.web import server

    app = open_app(ctx)
    web = app.config.web
    server.run(app, host or web.host, web.port if port is None else port, announce=click.echo)


@cli.command("sink")
@click.option("--host", default=None, help="Address of the SMTP sink (default: the host of smtp.url, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port of the SMTP sink (default: the port of smtp.url, 1025).")
@click.option("--web-port", type=int, default=None,
              help="Port of the mail view and web app (default: web.port, 8000; 0: any free one).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder that keeps each message as .eml and .html (default: sink-mail/ beside the config).")
@click.pass_context
def sink_command(ctx: click.Context, host: str | None, port: int | None, web_port: int | None,
                 out: Path | None) -> None:
    """Catch this newsletter's mail on this machine: an SMTP sink where smtp.url points, and a mail view.

    Run it in another terminal, then `newsletter send`: every message is kept and shown
    at /mail/ as the reader would see it. Nothing leaves this machine. Ctrl-C stops it.
    """
    config = load_config(ctx)
    configured_host, configured_port, why = sink.address_of(config)
    host, port = host or configured_host, configured_port if port is None else port
    if why is None and (host, port) != (configured_host, configured_port):
        why = f"this newsletter mails {configured_host}:{configured_port} (smtp.url)"
    if why:
        click.echo(f"note: {why}: to send here, set NEWSLETTER_SMTP_URL=smtp://{host}:{port}", err=True)
    web = config.web
    demo.serve_sink(open_app(ctx), out or config.resolve("sink-mail"), host=host, port=port, web_host=web.host,
                    web_port=web.port if web_port is None else web_port, ready=click.echo)
