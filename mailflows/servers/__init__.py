"""The mail servers the workflow talks to: IMAP (the dispute mailbox) and SMTP (acknowledgements)."""
