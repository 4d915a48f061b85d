// Package scheduler runs the timed jobs (today the daily question; visit
// reminders, attendance and deadline alerts come with the roster work) on
// robfig/cron in Asia/Shanghai. A job runs on one instance at a time
// (a lease in the store), a run that is still going makes the next one
// skip, and a panic is recovered and logged. The outbound delivery
// pipeline that drains the queue the jobs fill is not built yet.
package scheduler
