package handlers

// DailyQueue is the outbound queue: daily questions, reminders and
// notices wait in it for the delivery pipeline (scheduler.Deliverer).
const DailyQueue = "outbound"

// OutboundText is the payload of a queued message to one person.
type OutboundText struct {
	To   string `json:"to"` // openid
	Text string `json:"text"`
	Kind string `json:"kind"`
	// Phone of a member of staff, for channels that reach people by
	// number (WeCom); empty for households.
	Phone string `json:"phone,omitempty"`
}
