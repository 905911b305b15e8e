package web

// timelineNews queues the newest posts as a "posts" event, if the stream
// watches the timeline and has not sent them yet (live/timeline.go):
//
//	event: posts
//	data: {"recent":[42,41,40],"full":false}
//
// The event has no id: it is not a notification, and leaves the member's
// sequence (Last-Event-ID) where it is. The page counts the ids newer than
// its newest post and offers to load them ("3 new posts").
func (st *stream) timelineNews() {
	data, ok := st.sub.TimelineNews()
	if !ok {
		return
	}
	st.buf = append(st.buf, "event: posts\ndata: "...)
	st.buf = append(st.buf, data...)
	st.buf = append(st.buf, "\n\n"...)
	st.srv.metrics.events.Inc()
}
