package web

import "net/http"

// routes is natter's whole URL map.
//
// The seed's URLs, form fields and JSON are kept exactly (see DESIGN.md §1);
// the others are natter's own. Handlers return errors; handle turns them into
// pages (or JSON for the JSON endpoints).
func (s *Server) routes() *frontDoor {
	// Pages and endpoints that know who is asking: sessions are loaded here.
	m := http.NewServeMux()

	// Accounts.
	m.Handle("GET /register", s.guest(s.showRegister))
	m.Handle("POST /register", s.guest(s.register))
	m.Handle("GET /login", s.guest(s.showLogin))
	m.Handle("POST /login", s.guest(s.login))
	m.Handle("GET /logout", s.handle(s.showLogout))
	m.Handle("POST /logout", s.handle(s.logout))
	m.Handle("GET /settings/sessions", s.member(s.showSessions))
	m.Handle("POST /settings/sessions/{id}/logout", s.member(s.endSession))
	m.Handle("POST /settings/sessions/logout-others", s.member(s.endOtherSessions))
	m.Handle("GET /settings/account", s.member(s.showAccount))
	m.Handle("POST /settings/account/password", s.member(s.changePassword))
	m.Handle("POST /settings/account/email", s.member(s.changeEmail))
	m.Handle("POST /settings/account/username", s.member(s.changeUsername))
	m.Handle("POST /settings/account/delete", s.member(s.deleteAccount))
	m.Handle("GET /settings/account/export", s.member(s.exportAccount))
	m.Handle("POST /settings/account/email/verify", s.member(s.sendVerification))

	// Email (email.go): links that arrive by email work logged out.
	m.Handle("GET /reset-password", s.handle(s.showResetRequest))
	m.Handle("POST /reset-password", s.handle(s.resetRequest))
	m.Handle("GET /reset-password/{token}", s.handle(s.showResetPassword))
	m.Handle("POST /reset-password/{token}", s.handle(s.resetPassword))
	m.Handle("GET /verify-email/{token}", s.handle(s.showVerifyEmail))
	m.Handle("POST /verify-email/{token}", s.handle(s.verifyEmail))
	m.Handle("GET /unsubscribe/{token}", s.handle(s.showUnsubscribe))
	m.Handle("POST /unsubscribe/{token}", s.handle(s.unsubscribe))

	// The timeline.
	m.Handle("GET /{$}", s.handle(s.showHome)) // the front page for visitors
	m.Handle("GET /index", s.member(s.showIndex))
	m.Handle("POST /{$}", s.member(s.createPost))
	m.Handle("POST /index", s.member(s.createPost))
	m.Handle("GET /post/{id}", s.member(s.showPost))
	m.Handle("POST /post/{id}/reply", s.member(s.replyPost))
	m.Handle("POST /post/{id}/like", s.member(s.likePost))
	m.Handle("POST /post/{id}/unlike", s.member(s.unlikePost))
	m.Handle("GET /post/{id}/edit", s.member(s.showEditPost))
	m.Handle("POST /post/{id}/edit", s.member(s.editPost))
	m.Handle("GET /post/{id}/delete", s.member(s.showDeletePost))
	m.Handle("POST /post/{id}/delete", s.member(s.deletePost))

	// Profiles.
	m.Handle("GET /user/{username}", s.member(s.showUser))
	m.Handle("GET /user/{username}/popup", s.member(s.showPopup))
	m.Handle("POST /user/{username}/block", s.member(s.block))
	m.Handle("POST /user/{username}/unblock", s.member(s.unblock))
	m.Handle("GET /edit-profile", s.member(s.showEditProfile))
	m.Handle("POST /edit-profile", s.member(s.editProfile))

	// Private messages.
	m.Handle("GET /send-message/{recipient}", s.member(s.showSendMessage))
	m.Handle("POST /send-message/{recipient}", s.member(s.sendMessage))
	m.Handle("GET /messages", s.member(s.showMessages))
	m.Handle("GET /conversations", s.member(s.showConversations)) // the old inbox: redirects to /messages
	m.Handle("GET /new-message", s.member(s.newMessage))
	m.Handle("GET /members/suggest", s.memberAPI(s.suggestMembers))
	m.Handle("GET /messages/{username}", s.member(s.showConversation))
	m.Handle("POST /messages/{username}", s.member(s.reply))

	// Notifications: the seed's polling endpoint, the live stream
	// (events.go) and the notification centre.
	m.Handle("GET /notifications", s.memberAPI(s.notifications))
	m.Handle("GET /events", s.memberAPI(s.events))
	// A stream answers only GET: HEAD would open one that never ends.
	m.Handle("HEAD /events", methodNotAllowed(http.MethodGet))
	m.Handle("/events", methodNotAllowed(http.MethodGet))
	m.Handle("GET /activity", s.member(s.showActivity))
	m.Handle("POST /activity/read", s.member(s.markActivityRead))

	// Beyond the open page: Web Push subscriptions (their URLs and JSON
	// are kept exactly, for other clients) and the settings page.
	m.Handle("POST /push/subscriptions", s.memberAPI(s.subscribePush))
	m.Handle("DELETE /push/subscriptions", s.memberAPI(s.unsubscribePush))
	m.Handle("GET /settings/notifications", s.member(s.showSettings))
	m.Handle("POST /settings/notifications", s.member(s.saveSettings))
	m.Handle("POST /settings/notifications/devices/{id}/off", s.member(s.turnOffDevice))
	m.Handle("POST /settings/notifications/test", s.member(s.sendTestPush))

	// Files and probes need no session: they skip the session lookup.
	root := http.NewServeMux()

	// Everything else: a 404 page, or a 405 for a known path and another
	// method (the catch-all patterns would otherwise hide the mux's 405).
	m.Handle("/", s.handle(s.notFound(root, m)))

	root.Handle("GET /static/{file...}", http.HandlerFunc(s.serveStatic))
	root.Handle("GET /sw.js", http.HandlerFunc(s.serveRoot))                // the service worker: Web Push
	root.Handle("GET /manifest.webmanifest", http.HandlerFunc(s.serveRoot)) // natter as an installable app
	root.Handle("GET /avatar/{id}", http.HandlerFunc(s.serveAvatar))
	root.Handle("GET /push/key", http.HandlerFunc(s.pushKey))
	root.Handle("GET /healthz", http.HandlerFunc(s.healthz))
	root.Handle("GET /readyz", http.HandlerFunc(s.readyz))
	root.Handle("/", s.loadSession(s.loadUser(m)))

	cop := http.NewCrossOriginProtection()
	// A mail client unsubscribes with a POST of its own (RFC 8058); the
	// signed token in the URL is what authorises it.
	cop.AddInsecureBypassPattern("POST /unsubscribe/{token}")
	return &frontDoor{s: s, cop: cop, next: root}
}
