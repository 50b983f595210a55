package status

import (
	"fmt"
	"time"
)

// judge applies the thresholds: a row's state changes only after
// Healthy consecutive passing probes or Unhealthy consecutive failing ones.
type judge struct {
	th    Thresholds
	track map[string]*track
}

type track struct {
	ok, fail int
	state    State // judged state; "" until a threshold was reached
	since    time.Time
	last     Row
}

func newJudge(th Thresholds) *judge { return &judge{th: th, track: map[string]*track{}} }

// observe records one round of probes; rows not seen in it are forgotten.
// It returns the keys whose judged state changed.
func (j *judge) observe(rows []Row, now time.Time) []string {
	seen := map[string]bool{}
	var changed []string
	for _, r := range rows {
		k := r.Key()
		seen[k] = true
		t := j.track[k]
		if t == nil {
			t = &track{}
			j.track[k] = t
		}
		if r.State == Healthy {
			t.ok, t.fail = t.ok+1, 0
		} else {
			t.ok, t.fail = 0, t.fail+1
		}
		prev := t.state
		switch {
		case t.ok >= j.th.Healthy:
			t.state = Healthy
		case t.fail >= j.th.Unhealthy:
			t.state = r.State
		}
		if t.state != prev && t.state != "" {
			if prev != "" {
				changed = append(changed, k)
				t.since = now
			}
		}
		t.last = r
	}
	for k := range j.track {
		if !seen[k] {
			delete(j.track, k)
		}
	}
	return changed
}

// decided says whether every row reached a threshold.
func (j *judge) decided() bool {
	for _, t := range j.track {
		if t.state == "" {
			return false
		}
	}
	return true
}

// rows are the last observed rows with their judged states, in the order
// of order (the last round's). A transition this judge saw itself (under
// --watch) replaces the one the objects report.
func (j *judge) rows(order []Row) []Row {
	out := make([]Row, 0, len(order))
	for _, r := range order {
		t := j.track[r.Key()]
		if t == nil {
			continue
		}
		row := t.last
		switch {
		case t.state == "":
			// Between the thresholds (flapping): report what was seen last.
			row.Detail = fmt.Sprintf("%s (undecided: %d passing, %d failing probes in a row)", row.Detail, t.ok, t.fail)
		case t.state != row.State:
			// Held by the thresholds: the last probe disagrees.
			row.Detail = fmt.Sprintf("last probe %s: %s; still %s until %d probes in a row say so", row.State, row.Detail, t.state, j.threshold(row.State))
			row.State = t.state
		}
		if !t.since.IsZero() {
			since := t.since
			row.LastTransition = &since
			row.Reason = "observed by this command"
		}
		out = append(out, row)
	}
	return out
}

func (j *judge) threshold(s State) int {
	if s == Healthy {
		return j.th.Healthy
	}
	return j.th.Unhealthy
}
