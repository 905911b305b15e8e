package webpush_test

import (
	"context"
	"log"
	"time"

	"natter/internal/webpush"
)

// The delivery engine's use: one Sender for the process, one Send per
// subscription and message, and the Result or error decides the
// subscription's fate.
func ExampleSender_Send() {
	// In natter the key is made once and kept in the database:
	// webpush.ParseVAPIDKey(stored) on later starts.
	key, err := webpush.GenerateVAPIDKey()
	if err != nil {
		log.Fatal(err)
	}
	sender, err := webpush.NewSender(webpush.Options{Key: key, Subject: "mailto:ops@example.org"})
	if err != nil {
		log.Fatal(err)
	}
	defer sender.Close()

	// What POST /push/subscriptions received from the browser.
	sub, err := webpush.ParseSubscription([]byte(`{"endpoint":"https://push.example.net/p/1","expirationTime":null,
		"keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}`))
	if err != nil {
		log.Fatal(err) // answer 400
	}

	res, err := sender.Send(context.Background(), sub, webpush.Message{
		Payload: []byte(`{"type":"message","title":"alice","body":"hi","url":"/messages","tag":"c7"}`),
		TTL:     24 * time.Hour,
		Urgency: webpush.UrgencyHigh,
		Topic:   "conversation 7",
	})
	switch {
	case err != nil && webpush.Permanent(err):
		// delete the subscription: it can never work
	case err != nil:
		// retry with back-off
	case res.Outcome == webpush.Gone:
		// delete the subscription
	case res.Outcome == webpush.RetryLater:
		// retry after res.RetryAfter, or the engine's back-off if it is 0
	case res.Outcome == webpush.Rejected:
		// log res.Status and res.Body; do not retry this message
	}
}
