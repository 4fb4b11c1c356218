"""The baseline of the rush benchmarks: a bare python-telegram-bot 22 echo bot.

It does what any PTB bot does for an update (long polling, parsing, one handler, one sendMessage)
and nothing else — no database, no inbox, no outbox — so the ratio of wardbot's figures to its
figures, measured in the same run against the same fake Bot API, shows what wardbot's durability
and rules cost. PTB's defaults are kept (updates handled one at a time), as a bare bot would be.

Run `python -m bench.echo_bot` with TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL set; SIGTERM stops it.
"""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back to its chat."""
    if update.effective_message is not None and update.effective_message.text is not None:
        await update.effective_message.reply_text(update.effective_message.text)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a button press (the echo bot sends none, but a bare bot would answer it)."""
    if update.callback_query is not None:
        await update.callback_query.answer()


def build(token: str, base_url: str) -> Application:  # type: ignore[type-arg]
    """The echo bot's application, talking to `base_url` (the fake Bot API in the benchmarks)."""
    application = Application.builder().token(token).base_url(base_url).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(pressed))
    return application


def main() -> None:
    """Poll until SIGTERM or SIGINT."""
    application = build(os.environ["TELEGRAM_BOT_TOKEN"], os.environ["TELEGRAM_API_BASE_URL"])
    application.run_polling(poll_interval=0.0, timeout=10, drop_pending_updates=False)


if __name__ == "__main__":
    main()
