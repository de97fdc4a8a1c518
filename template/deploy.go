package template

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Options configure one deploy.
type Options struct {
	StackName string
	// AccountID and Region are the stack's (AWS::AccountId, AWS::Region).
	AccountID string
	Region    string
	// Overrides are --parameter-overrides.
	Overrides map[string]string
	// EnvVars is an env.json in SAM's format: per function logical id (or
	// function name) a map of variables, and "Parameters" for every
	// function. As with sam local, only variables the template declares are
	// replaced.
	EnvVars map[string]map[string]string
	// TemplatePath is recorded in the stack.
	TemplatePath string
	// Assets maps S3 object keys to local files or folders: code a
	// template names in S3 (a CDK asset bucket's key) is read there.
	Assets map[string]string
}

// Deployer applies templates to lamb through its Lambda API and keeps the
// stacks in Stacks. Out receives one line per change.
type Deployer struct {
	Lambda *lambda.Client
	Stacks Stacks
	// Schedules receives Schedule and ScheduleV2 events; nil: they are
	// listed as skipped.
	Schedules Schedules
	Out       io.Writer
	// HTTPGet fetches a function's code from its Code.Location, so that a
	// failed deploy can put the code back. nil: a failed deploy leaves
	// updated code as it is.
	HTTPGet func(ctx context.Context, url string) ([]byte, error)
	// S3Get fetches code the template keeps in S3 (CodeUri s3://...,
	// Code.S3Bucket/S3Key); nil: such code is an error naming --s3-endpoint.
	S3Get func(ctx context.Context, bucket, key, version string) ([]byte, error)
	// PollInterval is how often a function's state is read while waiting
	// for it to become Active. Default 50ms.
	PollInterval time.Duration
}

// run is one deploy or delete in progress.
type run struct {
	d     *Deployer
	t     *Template
	ev    *Evaluator
	opts  Options
	code  map[string][]byte // zips by hex sha256
	warns []string
}

func (d *Deployer) printf(format string, args ...any) {
	if d.Out != nil {
		fmt.Fprintf(d.Out, format+"\n", args...)
	}
}

// applied is one resource this deploy created or changed, for rollback.
type applied struct {
	prev *Record // nil: created
	rec  *Record
}

// Deploy makes lamb's state match the template: it creates the resources
// that are new, updates those whose resolved properties or code changed,
// leaves the others as they are, and deletes those the template no longer
// has. When a step fails, what this deploy did is undone (created resources
// deleted, updated ones given their previous configuration back) and the
// stack stays as it was.
func (d *Deployer) Deploy(ctx context.Context, t *Template, opts Options) (*Stack, error) {
	if err := checkStackName(opts.StackName); err != nil {
		return nil, err
	}
	prev, err := d.Stacks.Get(ctx, opts.StackName)
	if err != nil && !errors.Is(err, ErrNoStack) {
		return nil, err
	}
	all, err := d.Stacks.List(ctx)
	if err != nil {
		return nil, err
	}
	imports := map[string]string{}
	for _, s := range all {
		if s.Name == opts.StackName {
			continue
		}
		for k, v := range s.Exports {
			imports[k] = v
		}
	}
	pseudo := Pseudo{AccountID: opts.AccountID, Region: opts.Region, StackName: opts.StackName}
	ev, err := NewEvaluator(t, pseudo, opts.Overrides, imports)
	if err != nil {
		return nil, err
	}
	order, err := t.Order()
	if err != nil {
		return nil, err
	}
	r := &run{d: d, t: t, ev: ev, opts: opts, code: map[string][]byte{}}
	defer func() { r.code = nil }()
	prevRecs := map[string]*Record{}
	if prev != nil {
		for _, rec := range prev.Resources {
			prevRecs[rec.LogicalID] = rec
		}
	}
	stack := &Stack{Name: opts.StackName, Template: opts.TemplatePath, Status: "CREATE_COMPLETE", Parameters: map[string]string{},
		Imports: t.importNames()}
	if prev != nil {
		stack.Status = "UPDATE_COMPLETE"
	}
	for name := range t.Parameters {
		if v, ok := ev.params[name]; ok {
			if l, ok := v.([]any); ok {
				parts := make([]string, len(l))
				for i, x := range l {
					parts[i] = scalarString(x)
				}
				stack.Parameters[name] = strings.Join(parts, ",")
			} else {
				stack.Parameters[name] = scalarString(v)
			}
		}
	}
	// Every resource and output is resolved and checked before anything
	// is deployed, so that a template error leaves lamb as it was.
	if err := r.check(order); err != nil {
		return nil, err
	}
	var done []applied
	fail := func(err error) (*Stack, error) {
		if rbErr := r.rollback(ctx, done); rbErr != nil {
			err = fmt.Errorf("%w (and rolling back: %v)", err, rbErr)
		} else if len(done) > 0 {
			d.printf("rolled back %d change(s)", len(done))
		}
		return nil, err
	}
	keep := map[string]bool{}
	for _, id := range order {
		res := t.Resources[id]
		if ev.Excluded(id) {
			continue
		}
		keep[id] = true
		old := prevRecs[id]
		h, ok := handlers[res.Type]
		if !ok {
			rec := r.skip(res)
			stack.Resources = append(stack.Resources, rec)
			if old == nil || old.Status != StatusSkipped {
				d.printf("  skip      %-34s %s: %s", res.Type, id, rec.Reason)
			}
			if old != nil && old.Status == StatusDeployed {
				// It was deployed by a handler lamb no longer has: leave it.
				d.printf("  note      %s was deployed before and is now skipped", id)
			}
			continue
		}
		props, err := r.properties(res)
		if err != nil {
			return fail(err)
		}
		resolved, err := ev.EvalResource(res, props)
		if err != nil {
			return fail(err)
		}
		spec, err := h.plan(r, res, resolved)
		if err != nil {
			return fail(ev.asResourceError(id, err))
		}
		hash := hashOf(res.Type, spec)
		if old != nil && old.Type == res.Type && old.Hash == hash && old.Status == StatusDeployed && r.gone(ctx, old) {
			d.printf("  note      %s (%s) is gone from lamb: creating it again", id, old.PhysicalID)
			if err := r.remove(ctx, old); err != nil { // what outlives a function: mappings, schedules
				return fail(err)
			}
			old = nil
		}
		if old != nil && old.Type == res.Type && old.Hash == hash && old.Status == StatusDeployed {
			r.register(old)
			stack.Resources = append(stack.Resources, old)
			d.printf("  unchanged %-34s %s", res.Type, id)
			continue
		}
		if old != nil && (old.Type != res.Type || old.Status != StatusDeployed) {
			old = nil // replaced by a resource of another type: deleted below
		}
		verb := "create"
		if old != nil {
			verb = "update"
		}
		rec, err := h.apply(ctx, r, id, spec, old)
		if rec != nil {
			rec.LogicalID, rec.Type, rec.Status, rec.Hash = id, res.Type, StatusDeployed, hash
			if rec.Spec == nil {
				rec.Spec, _ = json.Marshal(spec)
			}
			done = append(done, applied{prev: old, rec: rec})
		}
		if err != nil {
			return fail(ev.asResourceError(id, err))
		}
		r.register(rec)
		stack.Resources = append(stack.Resources, rec)
		d.printf("  %-9s %-34s %s (%s)", verb, res.Type, id, rec.PhysicalID)
	}
	outputs, exports, err := ev.Outputs()
	if err != nil {
		return fail(err)
	}
	stack.Outputs, stack.Exports = outputs, exports
	// Exports another stack imports must not go away.
	if prev != nil {
		for name := range prev.Exports {
			if _, still := exports[name]; still {
				continue
			}
			if user := importer(all, opts.StackName, name); user != "" {
				return fail(fmt.Errorf("export %s is imported by stack %s: it cannot be removed", name, user))
			}
		}
	}
	// What the template no longer has goes, newest first.
	var errs []error
	if prev != nil {
		for i := len(prev.Resources) - 1; i >= 0; i-- {
			old := prev.Resources[i]
			if cur := find(stack.Resources, old.LogicalID); cur != nil && cur.Type == old.Type && (cur.Status == StatusDeployed) == (old.Status == StatusDeployed) {
				continue
			}
			if err := r.remove(ctx, old); err != nil {
				errs = append(errs, err)
				stack.Resources = append(stack.Resources, old)
			}
		}
	}
	stack.UpdatedAt = time.Now().UTC()
	for _, w := range r.warns {
		d.printf("  warning   %s", w)
	}
	if err := d.Stacks.Put(ctx, stack); err != nil {
		return nil, fmt.Errorf("saving stack %s: %w", stack.Name, err)
	}
	if len(errs) > 0 {
		return stack, fmt.Errorf("deleting resources the template no longer has: %w", errors.Join(errs...))
	}
	return stack, nil
}

// Delete removes every resource of a stack, newest first, and then the
// stack. It refuses while another stack imports one of its exports.
func (d *Deployer) Delete(ctx context.Context, name string) error {
	s, err := d.Stacks.Get(ctx, name)
	if err != nil {
		return err
	}
	all, err := d.Stacks.List(ctx)
	if err != nil {
		return err
	}
	for exp := range s.Exports {
		if user := importer(all, name, exp); user != "" {
			return fmt.Errorf("stack %s exports %s, which stack %s imports: delete %s first", name, exp, user, user)
		}
	}
	r := &run{d: d, code: map[string][]byte{}}
	var errs []error
	for i := len(s.Resources) - 1; i >= 0; i-- {
		if err := r.remove(ctx, s.Resources[i]); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return d.Stacks.Delete(ctx, name)
}

func importer(all []*Stack, self, export string) string {
	for _, s := range all {
		if s.Name != self && slices.Contains(s.Imports, export) {
			return s.Name
		}
	}
	return ""
}

func find(recs []*Record, id string) *Record {
	for _, r := range recs {
		if r.LogicalID == id {
			return r
		}
	}
	return nil
}

// gone reports whether a function a record names was deleted behind the
// stack's back (only functions are checked: the rest goes with them).
func (r *run) gone(ctx context.Context, rec *Record) bool {
	if rec.Type != "AWS::Serverless::Function" && rec.Type != "AWS::Lambda::Function" {
		return false
	}
	_, err := r.d.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &rec.PhysicalID})
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// remove deletes one deployed resource (skipped ones have nothing to delete).
func (r *run) remove(ctx context.Context, rec *Record) error {
	if rec.Status != StatusDeployed {
		return nil
	}
	h, ok := handlers[rec.Type]
	if !ok {
		return nil
	}
	if err := h.remove(ctx, r, rec); err != nil {
		return fmt.Errorf("resource %s: delete: %w", rec.LogicalID, err)
	}
	r.d.printf("  delete    %-34s %s (%s)", rec.Type, rec.LogicalID, rec.PhysicalID)
	return nil
}

// rollback undoes this deploy's changes, newest first.
func (r *run) rollback(ctx context.Context, done []applied) error {
	var errs []error
	for i := len(done) - 1; i >= 0; i-- {
		a := done[i]
		h := handlers[a.rec.Type]
		if a.prev == nil {
			if err := h.remove(ctx, r, a.rec); err != nil {
				errs = append(errs, fmt.Errorf("resource %s: %w", a.rec.LogicalID, err))
			}
			continue
		}
		spec, err := h.decode(a.prev.Spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("resource %s: %w", a.rec.LogicalID, err))
			continue
		}
		if _, err := h.apply(ctx, r, a.prev.LogicalID, spec, a.rec); err != nil {
			errs = append(errs, fmt.Errorf("resource %s: %w", a.rec.LogicalID, err))
		}
	}
	return errors.Join(errs...)
}

// check resolves and plans every resource, with the values the resources
// deployed before it will have as near as they can be known (a layer's
// version is taken to be 1), and evaluates the outputs.
func (r *run) check(order []string) error {
	defer func() {
		r.ev.Resources = map[string]*Deployed{}
		r.warns = nil
	}()
	for _, id := range order {
		res := r.t.Resources[id]
		if r.ev.Excluded(id) {
			continue
		}
		h, ok := handlers[res.Type]
		if !ok {
			r.skip(res)
			continue
		}
		props, err := r.properties(res)
		if err != nil {
			return err
		}
		resolved, err := r.ev.EvalResource(res, props)
		if err != nil {
			return err
		}
		spec, err := h.plan(r, res, resolved)
		if err != nil {
			return r.ev.asResourceError(id, err)
		}
		ph := r.placeholder(id, spec)
		ph.LogicalID = id
		r.register(ph)
	}
	_, _, err := r.ev.Outputs()
	return err
}

// placeholder is the record a resource's deploy is expected to make.
func (r *run) placeholder(id string, spec any) *Record {
	p := r.ev.pseudo
	fnArn := func(name string) string {
		return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", p.partition(), p.Region, p.AccountID, name)
	}
	switch s := spec.(type) {
	case *functionSpec:
		return &Record{Result: &Deployed{Ref: s.Name, Attrs: map[string]any{"Arn": fnArn(s.Name)}}}
	case *samFunctionSpec:
		arn := fnArn(s.Function.Name)
		extra := map[string]*Deployed{}
		target := arn
		if s.Alias != "" {
			target = arn + ":" + s.Alias
			extra[id+".Version"] = &Deployed{Ref: arn + ":1", Attrs: map[string]any{"Version": "1"}}
			extra[id+"Version"] = extra[id+".Version"]
			extra[id+".Alias"] = &Deployed{Ref: target, Attrs: map[string]any{"AliasArn": target}}
			extra[id+"Alias"+s.Alias] = extra[id+".Alias"]
		}
		if s.URL != nil {
			extra[id+"Url"] = &Deployed{Ref: target, Attrs: map[string]any{"FunctionUrl": "http://placeholder/", "FunctionArn": target}}
		}
		for ev := range s.Events {
			extra[id+ev] = &Deployed{Ref: "00000000-0000-0000-0000-000000000000", Attrs: map[string]any{"Id": "00000000-0000-0000-0000-000000000000"}}
		}
		for ev := range s.Schedules {
			extra[id+ev] = &Deployed{Ref: physicalName(p.StackName, id+ev, 128), Attrs: map[string]any{"Arn": "arn:aws:events:placeholder"}}
		}
		return samRecord(r, id, s, arn, extra)
	case *layerSpec:
		arn := fmt.Sprintf("arn:%s:lambda:%s:%s:layer:%s:1", p.partition(), p.Region, p.AccountID, s.Name)
		return &Record{Result: &Deployed{Ref: arn, Attrs: map[string]any{"LayerVersionArn": arn}}}
	case *versionSpec:
		arn := s.FunctionName + ":1"
		if !strings.HasPrefix(arn, "arn:") {
			arn = fnArn(arn)
		}
		return &Record{Result: &Deployed{Ref: arn, Attrs: map[string]any{"Version": "1", "FunctionArn": arn}}}
	case *aliasSpec:
		arn := s.FunctionName
		if !strings.HasPrefix(arn, "arn:") {
			arn = fnArn(arn)
		}
		arn += ":" + s.Name
		return &Record{Result: &Deployed{Ref: arn, Attrs: map[string]any{"AliasArn": arn}}}
	case *urlSpec:
		return &Record{Result: &Deployed{Ref: s.Target, Attrs: map[string]any{"FunctionUrl": "http://placeholder/", "FunctionArn": s.Target}}}
	case *permissionSpec:
		return &Record{Result: &Deployed{Ref: s.StatementID, Attrs: map[string]any{}}}
	case *esmSpec:
		return &Record{Result: &Deployed{Ref: "00000000-0000-0000-0000-000000000000", Attrs: map[string]any{"Id": "00000000-0000-0000-0000-000000000000"}}}
	}
	return &Record{Result: &Deployed{Ref: id, Attrs: map[string]any{}}}
}

// skip records a resource lamb does not create, with plausible values for
// Ref and Fn::GetAtt.
func (r *run) skip(res *Resource) *Record {
	name := ""
	if prop, ok := nameProperties[res.Type]; ok {
		if v, ok := res.Properties[prop]; ok {
			if s, err := r.ev.evalString(v, prop); err == nil {
				name = s
			}
		}
	}
	dep := plausible(r.ev.pseudo, res.Type, res.LogicalID, name)
	rec := &Record{LogicalID: res.LogicalID, Type: res.Type, Status: StatusSkipped, Reason: skipReason(res.Type), Result: dep,
		PhysicalID: scalarString(dep.Ref)}
	r.register(rec)
	return rec
}

// register makes a record's values visible to Ref and Fn::GetAtt.
func (r *run) register(rec *Record) {
	if rec.Result != nil {
		r.ev.Resources[rec.LogicalID] = rec.Result
	}
	for k, v := range rec.Extra {
		r.ev.Resources[k] = v
	}
}

// properties returns a resource's properties with SAM's Globals merged in.
func (r *run) properties(res *Resource) (map[string]any, error) {
	section := ""
	switch res.Type {
	case "AWS::Serverless::Function":
		section = "Function"
	case "AWS::Serverless::LayerVersion":
		section = "LayerVersion"
	}
	g, ok := r.t.Globals[section].(map[string]any)
	if section == "" || !ok {
		return res.Properties, nil
	}
	return mergeGlobals(g, res.Properties), nil
}

// mergeGlobals applies SAM's rules: the resource's primitives win, maps are
// merged, lists are joined (globals first).
func mergeGlobals(g, props map[string]any) map[string]any {
	out := make(map[string]any, len(props)+len(g))
	for k, v := range g {
		out[k] = v
	}
	for k, v := range props {
		gv, ok := out[k]
		if !ok {
			out[k] = v
			continue
		}
		gm, gIsMap := gv.(map[string]any)
		pm, pIsMap := v.(map[string]any)
		_, gIntr, _ := intrinsic(gv)
		_, pIntr, _ := intrinsic(v)
		gl, gIsList := gv.([]any)
		pl, pIsList := v.([]any)
		switch {
		case gIsMap && pIsMap && gIntr == nil && pIntr == nil:
			out[k] = mergeGlobals(gm, pm)
		case gIsList && pIsList:
			out[k] = append(append([]any{}, gl...), pl...)
		default:
			out[k] = v
		}
	}
	return out
}

func (t *Template) importNames() []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		if fn, arg, ok := intrinsic(v); ok && fn == "Fn::ImportValue" {
			if s, ok := arg.(string); ok {
				out = append(out, s)
			}
		}
		eachChild(v, walk)
	}
	for _, res := range t.Resources {
		walk(res.Properties)
	}
	for _, o := range t.Outputs {
		walk(o.Value)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func hashOf(typ string, spec any) string {
	b, _ := json.Marshal(spec)
	h := sha256.Sum256(append([]byte(typ+"\x00"), b...))
	return hex.EncodeToString(h[:])
}

func checkStackName(n string) error {
	if n == "" || len(n) > 128 {
		return fmt.Errorf("stack name %q: want 1 to 128 characters", n)
	}
	for i, c := range n {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || (i > 0 && (c >= '0' && c <= '9' || c == '-'))
		if !ok {
			return fmt.Errorf("stack name %q: want letters, digits and dashes, starting with a letter", n)
		}
	}
	return nil
}
