// Package webpush sends Web Push messages to browsers with no third-party
// service: RFC 8030 (the push protocol), RFC 8291 with RFC 8188 (payload
// encryption, "aes128gcm") and RFC 8292 (VAPID, the application server's
// signed identity).
//
// The pieces, each usable alone:
//
//   - Subscription is what a browser's PushSubscription.toJSON() gives;
//     ParseSubscription validates it.
//   - Encrypt turns a plaintext into the RFC 8291 body for one subscription.
//   - VAPIDKey is the application server's P-256 key pair: generate it once,
//     keep MarshalBinary's bytes, share PublicKey with browsers.
//   - Sender posts a Message to a subscription's endpoint and classifies the
//     push service's answer into a Result the caller acts on.
//
// A push endpoint is a URL a member supplied, so every send is a
// server-side request made on a stranger's behalf. Sender only speaks https
// to public addresses, checked on the address actually dialled so that a
// name re-resolving to a private address (DNS rebinding) cannot reach
// inside; an operator allow-list of host:port pairs lifts both rules for
// private push services and tests. Redirects are never followed.
//
// Package pushtest holds a fake push service that checks all of this from
// the other side.
package webpush
