// Package scheduler will run the cron jobs (visit reminders, attendance,
// deadline alerts, the daily question) and the outbound delivery pipeline.
// Not built yet (issue 6): nothing imports it.
package scheduler
