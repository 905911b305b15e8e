package live

// Presence: the delivery engine pushes to a member's devices only when no
// page of theirs is open, and an open page is an open stream here.

// HasStreams reports whether the member has an event stream open on this
// instance.
func (h *Hub) HasStreams(userID int64) bool {
	sh := h.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return len(sh.subs[userID]) > 0
}

// Members returns the members with an event stream open on this instance,
// in no order, each once.
func (h *Hub) Members() []int64 {
	var ids []int64
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		for id := range sh.subs {
			ids = append(ids, id)
		}
		sh.mu.Unlock()
	}
	return ids
}
