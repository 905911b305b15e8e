// Package mail sends natter's emails. It reads the operator's SMTP settings,
// renders each email from embedded templates, and hands it to an SMTP server,
// reporting whether a failure is worth retrying. It knows nothing of the
// outbox, of members or of routes: the caller decides who gets what, when, and
// passes site-relative paths, which become absolute links on the public URL.
//
//	cfg, err := mail.ParseConfig(smtpURL, mailFrom, publicURL) // -smtp-url, -mail-from, -public-url
//	if !cfg.Enabled() {
//		// email is off: say so once at start-up and carry on
//	}
//	sender, err := mail.NewSender(cfg)
//	composer, err := mail.NewComposer(cfg)
//
//	msg, err := composer.Compose(to, mail.PasswordReset{Username: "bob", Path: "/reset-password/TOKEN", ValidFor: time.Hour})
//	msg.ID = "outbox-42" // optional: the same Message-ID on every attempt
//	err = sender.Send(ctx, msg)
//	switch {
//	case err == nil: // the server took it
//	case mail.IsTemporary(err): // back off and try again
//	default: // give up on this message
//	}
//
// # Security
//
// smtp:// upgrades with STARTTLS whenever the server offers it and requires it
// when credentials are set, so a password is never sent in the clear;
// smtps:// is TLS from the first byte; smtp://…?tls=none is plain and refuses
// credentials. A certificate that does not verify stops the send: there is no
// fallback to plain text.
//
// # What every email carries
//
// A text/plain and a text/html part (multipart/alternative), a Message-ID on
// the public URL's domain, Date, and Auto-Submitted: auto-generated.
// Notifications and digests add List-Id, List-Unsubscribe and, over https,
// List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058). Mails with the
// same Message.Thread share In-Reply-To and References, so mail clients show
// one conversation as one thread.
//
// The package mail/mailtest runs a real SMTP server for tests.
package mail
