package template

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Stack is a deployed stack as lamb keeps it (the /_lamb/stacks API stores
// it as a document).
type Stack struct {
	Name       string            `json:"name"`
	Template   string            `json:"template,omitempty"`
	Status     string            `json:"status"`
	Parameters map[string]string `json:"parameters,omitempty"`
	Resources  []*Record         `json:"resources"`
	Outputs    map[string]string `json:"outputs,omitempty"`
	Exports    map[string]string `json:"exports,omitempty"`
	// Imports are the export names the stack's template imports.
	Imports   []string  `json:"imports,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Record is one resource of a stack.
type Record struct {
	LogicalID  string `json:"logicalId"`
	Type       string `json:"type"`
	PhysicalID string `json:"physicalId,omitempty"`
	// Status is "deployed" or "skipped".
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Hash is of the resolved properties and code: a redeploy with the
	// same hash leaves the resource as it is.
	Hash string `json:"hash,omitempty"`
	// Spec is what was applied, in the form of the resource's handler.
	Spec   json.RawMessage `json:"spec,omitempty"`
	Result *Deployed       `json:"result,omitempty"`
	// Extra are names a SAM resource generates (MyFunction.Alias,
	// MyFunctionUrl, MyFunctionRole, ...), as Ref and Fn::GetAtt see them.
	Extra map[string]*Deployed `json:"extra,omitempty"`
	// Generated lists what a SAM resource expands to, for people.
	Generated []Generated `json:"generated,omitempty"`
}

// Generated is one resource a SAM resource expands to.
type Generated struct {
	LogicalID  string `json:"logicalId"`
	Type       string `json:"type"`
	Status     string `json:"status"`
	PhysicalID string `json:"physicalId,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Record statuses.
const (
	StatusDeployed = "deployed"
	StatusSkipped  = "skipped"
)

// ErrNoStack is returned by Stacks.Get for a stack lamb does not have.
var ErrNoStack = errors.New("no such stack")

// Stacks is where stack records are kept (lamb's /_lamb/stacks API).
type Stacks interface {
	// Get returns ErrNoStack (wrapped) when there is no such stack.
	Get(ctx context.Context, name string) (*Stack, error)
	List(ctx context.Context) ([]*Stack, error)
	Put(ctx context.Context, s *Stack) error
	Delete(ctx context.Context, name string) error
}

// Schedule is a function lamb invokes on a schedule (lamb's
// /_lamb/schedules API), made from a Schedule or ScheduleV2 event.
type Schedule struct {
	Name       string `json:"-"`
	Function   string `json:"function"`
	Expression string `json:"expression"`
	Input      string `json:"input,omitempty"`
	Enabled    bool   `json:"enabled"`
}

// Schedules is where schedules are kept.
type Schedules interface {
	PutSchedule(ctx context.Context, s Schedule) error
	// DeleteSchedule of an absent schedule is not an error.
	DeleteSchedule(ctx context.Context, name string) error
}
