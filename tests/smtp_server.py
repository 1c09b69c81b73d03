"""A real SMTP server for tests: the project's local mail sink (cchc.mailsink), on a free port.

`with SmtpServer() as server:` — server.port, server.messages [(sender, recipients, EmailMessage)].
"""

from cchc.mailsink import MailSink as SmtpServer

__all__ = ["SmtpServer"]
