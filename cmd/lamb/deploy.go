package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/spf13/cobra"

	"github.com/lambhq/lamb/template"
)

type deployOptions struct {
	endpoint  string
	stackName string
	overrides []string
	envVars   string
	delete    bool
	s3        string // --s3-endpoint: where code the template keeps in S3 is fetched from
}

func newDeployCmd() *cobra.Command {
	var (
		o          deployOptions
		watch      bool
		watchEvery time.Duration
	)
	cmd := &cobra.Command{
		Use:   "deploy TEMPLATE",
		Short: "Deploy a SAM or CloudFormation template's functions to a running lamb",
		Long: `Deploy a SAM or CloudFormation template (template.yaml, or a folder holding one) to a
running lamb, as a stack: functions, layers, versions, aliases, permissions, function URLs,
event invoke configs and event source mappings are created through lamb's Lambda API.
Every other resource is listed as skipped, and a Ref or Fn::GetAtt to it gives a plausible
value. Deploying again changes only what changed and removes what the template no longer
has; a failed deploy undoes what it did. See docs/deploy.md.`,
		Example: `  lamb deploy template.yaml --stack-name app
  lamb deploy template.yaml --stack-name app --parameter-overrides Stage=dev Memory=256
  lamb deploy template.yaml --stack-name app --env-vars env.json
  lamb deploy --delete --stack-name app`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			if len(args) == 1 {
				path = args[0]
			}
			if watch {
				if o.delete || path == "" {
					return errors.New("--watch needs a TEMPLATE to deploy, and no --delete")
				}
				return watchDeploy(cmd.Context(), o, path, cmd.OutOrStdout(), cmd.ErrOrStderr(), watchEvery)
			}
			return runDeploy(cmd.Context(), o, path, cmd.OutOrStdout(), "", "")
		},
	}
	endpointFlag(cmd, &o.endpoint)
	f := cmd.Flags()
	f.StringVar(&o.stackName, "stack-name", "", "the stack's name (default: the template's folder name)")
	f.StringArrayVar(&o.overrides, "parameter-overrides", nil, "KEY=VALUE (or SAM's ParameterKey=K,ParameterValue=V): a template parameter's value; repeatable, several in one argument separated by spaces")
	f.StringVar(&o.envVars, "env-vars", "", "JSON file of environment variables in sam local's format: per function logical id, and \"Parameters\" for all")
	f.BoolVar(&o.delete, "delete", false, "delete the stack and everything it deployed")
	f.StringVar(&o.s3, "s3-endpoint", "", "S3-compatible endpoint (LocalStack, MinIO, moto's server, real S3) that code the template keeps in S3 (sam package, CDK asset buckets) is fetched from")
	f.BoolVar(&watch, "watch", false, "keep running, and deploy again whenever the template or a file in its folder changes (only what changed is updated)")
	f.DurationVar(&watchEvery, "watch-interval", 500*time.Millisecond, "how often --watch looks for changes")
	return cmd
}

// runDeploy deploys (or deletes) one stack. akid and secret, when set, are
// the credentials to sign with (lamb serve --template); else the
// environment's, as for every client command.
func runDeploy(ctx context.Context, o deployOptions, path string, out io.Writer, akid, secret string) error {
	d := newDeployer(o.endpoint, out, akid, secret)
	if objs := s3Code(o.s3); objs != nil {
		region := cmp.Or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1")
		d.S3Get = func(ctx context.Context, bucket, key, version string) ([]byte, error) {
			return objs.GetObject(ctx, region, bucket, key, version, 250<<20)
		}
	}
	if path != "" {
		if stacks, assets, ok, err := readCloudAssembly(path); ok || err != nil {
			if err != nil {
				return err
			}
			return deployCDK(ctx, d, o, path, stacks, assets, out)
		}
	}
	if o.delete {
		name := o.stackName
		if name == "" {
			if path == "" {
				return errors.New("--delete needs --stack-name (or the TEMPLATE it was deployed from)")
			}
			name = defaultStackName(path)
		}
		if err := d.Delete(ctx, name); err != nil {
			return fmt.Errorf("delete stack %s: %w", name, err)
		}
		fmt.Fprintf(out, "stack %s deleted\n", name)
		return nil
	}
	if path == "" {
		return errors.New("give the TEMPLATE to deploy")
	}
	file, err := templateFile(path)
	if err != nil {
		return err
	}
	return deployFile(ctx, d, o, file, cmp.Or(o.stackName, defaultStackName(file)), nil, out)
}

// deployFile deploys the template file as stack name.
func deployFile(ctx context.Context, d *template.Deployer, o deployOptions, file, name string, assets map[string]string, out io.Writer) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	t, err := template.ParseFile(file, data)
	if err != nil {
		return err
	}
	overrides, err := parseOverrides(o.overrides)
	if err != nil {
		return err
	}
	var env map[string]map[string]string
	if o.envVars != "" {
		b, err := os.ReadFile(o.envVars)
		if err != nil {
			return fmt.Errorf("--env-vars: %w", err)
		}
		if err := json.Unmarshal(b, &env); err != nil {
			return fmt.Errorf("--env-vars %s: want {\"FunctionLogicalId\": {\"VAR\": \"value\"}, \"Parameters\": {...}}: %w", o.envVars, err)
		}
	}
	if abs, err := filepath.Abs(file); err == nil {
		file = abs
	}
	where, err := d.Stacks.(*stacksClient).scope(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "deploying %s as stack %s to %s\n", file, name, o.endpoint)
	stack, err := d.Deploy(ctx, t, template.Options{StackName: name, AccountID: where.Account, Region: where.Region,
		Overrides: overrides, EnvVars: env, TemplatePath: file, Assets: assets})
	if err != nil {
		return err
	}
	if len(stack.Outputs) > 0 {
		fmt.Fprintln(out, "Outputs:")
		for _, k := range sortedKeys(stack.Outputs) {
			fmt.Fprintf(out, "  %s = %s\n", k, stack.Outputs[k])
		}
	}
	fmt.Fprintf(out, "stack %s: %s\n", name, stack.Status)
	return nil
}

// templateFile finds the template: the file itself, or template.yaml (.yml,
// .json) in a folder.
func templateFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return path, nil
	}
	for _, n := range []string{"template.yaml", "template.yml", "template.json"} {
		p := filepath.Join(path, n)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: no template.yaml, template.yml or template.json in this folder", path)
}

var notStackChar = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// defaultStackName is the template's folder name, made a valid stack name.
func defaultStackName(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		abs = filepath.Dir(abs)
	}
	n := strings.Trim(notStackChar.ReplaceAllString(filepath.Base(abs), "-"), "-")
	if n == "" || !(n[0] >= 'a' && n[0] <= 'z' || n[0] >= 'A' && n[0] <= 'Z') {
		n = "stack-" + n
	}
	return strings.TrimSuffix(n, "-")
}

// parseOverrides reads KEY=VALUE pairs, several per argument separated by
// spaces as sam deploy takes them, or ParameterKey=K,ParameterValue=V.
func parseOverrides(args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		for _, f := range strings.Fields(a) {
			if k, ok := strings.CutPrefix(f, "ParameterKey="); ok {
				key, rest, _ := strings.Cut(k, ",")
				v, ok := strings.CutPrefix(rest, "ParameterValue=")
				if !ok {
					return nil, fmt.Errorf("--parameter-overrides %q: want ParameterKey=K,ParameterValue=V", f)
				}
				out[key] = v
				continue
			}
			k, v, ok := strings.Cut(f, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("--parameter-overrides %q: want KEY=VALUE", f)
			}
			out[k] = strings.Trim(v, `"'`)
		}
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// newDeployer returns a deployer talking to the lamb at endpoint, signing
// as the client commands do (or with akid and secret when given).
func newDeployer(endpoint string, out io.Writer, akid, secret string) *template.Deployer {
	endpoint = strings.TrimRight(endpoint, "/")
	region := cmp.Or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1")
	var creds aws.CredentialsProvider = aws.AnonymousCredentials{}
	if akid == "" {
		akid, secret = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
		if akid != "" && secret != "" {
			creds = credentials.NewStaticCredentialsProvider(akid, secret, os.Getenv("AWS_SESSION_TOKEN"))
		}
	} else {
		creds = credentials.NewStaticCredentialsProvider(akid, secret, "")
	}
	client := lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(endpoint), Credentials: creds})
	sc := &stacksClient{endpoint: endpoint}
	if akid != "" && secret != "" && os.Getenv("AWS_ACCESS_KEY_ID") != akid {
		sc.bearer = akid + ":" + secret
	}
	return &template.Deployer{Lambda: client, Stacks: sc, Schedules: sc, Out: out, HTTPGet: sc.getBytes}
}

// stacksClient keeps stack records in lamb's /_lamb/stacks API.
type stacksClient struct {
	endpoint string
	bearer   string // ACCESS_KEY:SECRET, else requests are signed from the environment
}

type stackScope struct {
	Account string `json:"account"`
	Region  string `json:"region"`
}

func (c *stacksClient) do(ctx context.Context, method, path string, body []byte) ([]byte, int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, rd)
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusNotFound {
		return b, resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, apiError(resp, b))
	}
	return b, resp.StatusCode, nil
}

type stackList struct {
	stackScope
	Stacks []*template.Stack `json:"stacks"`
}

func (c *stacksClient) list(ctx context.Context) (*stackList, error) {
	b, status, err := c.do(ctx, http.MethodGet, "/_lamb/stacks", nil)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		return nil, fmt.Errorf("%s does not keep stacks: is it a lamb new enough for lamb deploy?", c.endpoint)
	}
	var l stackList
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("reading stacks: %w", err)
	}
	return &l, nil
}

func (c *stacksClient) scope(ctx context.Context) (stackScope, error) {
	l, err := c.list(ctx)
	if err != nil {
		return stackScope{}, err
	}
	return l.stackScope, nil
}

func (c *stacksClient) List(ctx context.Context) ([]*template.Stack, error) {
	l, err := c.list(ctx)
	if err != nil {
		return nil, err
	}
	return l.Stacks, nil
}

func (c *stacksClient) Get(ctx context.Context, name string) (*template.Stack, error) {
	b, status, err := c.do(ctx, http.MethodGet, "/_lamb/stacks/"+url.PathEscape(name), nil)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		return nil, fmt.Errorf("stack %s: %w", name, template.ErrNoStack)
	}
	var s template.Stack
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("reading stack %s: %w", name, err)
	}
	return &s, nil
}

func (c *stacksClient) Put(ctx context.Context, s *template.Stack) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, _, err = c.do(ctx, http.MethodPut, "/_lamb/stacks/"+url.PathEscape(s.Name), b)
	return err
}

func (c *stacksClient) Delete(ctx context.Context, name string) error {
	_, status, err := c.do(ctx, http.MethodDelete, "/_lamb/stacks/"+url.PathEscape(name), nil)
	if err == nil && status == http.StatusNotFound {
		return fmt.Errorf("stack %s: %w", name, template.ErrNoStack)
	}
	return err
}

// PutSchedule stores a schedule lamb invokes a function on.
func (c *stacksClient) PutSchedule(ctx context.Context, s template.Schedule) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, _, err = c.do(ctx, http.MethodPut, "/_lamb/schedules/"+url.PathEscape(s.Name), b)
	return err
}

// DeleteSchedule removes a schedule.
func (c *stacksClient) DeleteSchedule(ctx context.Context, name string) error {
	_, _, err := c.do(ctx, http.MethodDelete, "/_lamb/schedules/"+url.PathEscape(name), nil)
	return err
}

// getBytes fetches a zip from lamb's Code.Location.
func (c *stacksClient) getBytes(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// deployAtStart deploys templates (lamb serve --template) to the server at
// endpoint, signing with the first of its credentials if it has any.
func deployAtStart(ctx context.Context, endpoint, s3Endpoint string, creds map[string]string, templates []string, log *slog.Logger) error {
	var akid, secret string
	for k, v := range creds {
		akid, secret = k, v
		break
	}
	for _, t := range templates {
		var buf bytes.Buffer
		err := runDeploy(ctx, deployOptions{endpoint: endpoint, s3: s3Endpoint}, t, &buf, akid, secret)
		for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
			if line != "" {
				log.Info("deploy: " + strings.TrimSpace(line))
			}
		}
		if err != nil {
			return fmt.Errorf("--template %s: %w", t, err)
		}
	}
	return nil
}

// cdkStack is one stack of a CDK cloud assembly.
type cdkStack struct {
	name, template string
}

// readCloudAssembly reads a cdk.out folder's manifest.json: its stacks in
// the order of their dependencies and, from its asset manifests, where
// each file asset's S3 key is on disk. ok is false for a path that is not
// a cloud assembly.
func readCloudAssembly(dir string) (stacks []cdkStack, assets map[string]string, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, nil, false, nil
	}
	var m struct {
		Artifacts map[string]struct {
			Type       string
			Properties struct {
				TemplateFile string
				StackName    string
				File         string
			}
			Dependencies []string
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, true, fmt.Errorf("%s/manifest.json: %w", dir, err)
	}
	assets = map[string]string{}
	for _, a := range m.Artifacts {
		if a.Type != "cdk:asset-manifest" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, a.Properties.File))
		if err != nil {
			return nil, nil, true, err
		}
		var am struct {
			Files map[string]struct {
				Source       struct{ Path, Packaging string }
				Destinations map[string]struct{ ObjectKey string }
			}
		}
		if err := json.Unmarshal(b, &am); err != nil {
			return nil, nil, true, fmt.Errorf("%s: %w", a.Properties.File, err)
		}
		for _, f := range am.Files {
			for _, d := range f.Destinations {
				p, err := filepath.Abs(filepath.Join(dir, f.Source.Path))
				if err != nil {
					return nil, nil, true, err
				}
				assets[d.ObjectKey] = p
			}
		}
	}
	done := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		a, found := m.Artifacts[id]
		if done[id] || !found {
			return
		}
		done[id] = true
		deps := append([]string(nil), a.Dependencies...)
		sort.Strings(deps)
		for _, dep := range deps {
			visit(dep)
		}
		if a.Type == "aws:cloudformation:stack" {
			stacks = append(stacks, cdkStack{name: cmp.Or(a.Properties.StackName, id), template: filepath.Join(dir, a.Properties.TemplateFile)})
		}
	}
	ids := make([]string, 0, len(m.Artifacts))
	for id := range m.Artifacts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		visit(id)
	}
	if len(stacks) == 0 {
		return nil, nil, true, fmt.Errorf("%s/manifest.json: no CloudFormation stacks", dir)
	}
	return stacks, assets, true, nil
}

// deployCDK deploys (or deletes, newest first) a cloud assembly's stacks.
func deployCDK(ctx context.Context, d *template.Deployer, o deployOptions, dir string, stacks []cdkStack, assets map[string]string, out io.Writer) error {
	if o.stackName != "" {
		if len(stacks) != 1 {
			return fmt.Errorf("%s holds %d stacks: --stack-name names one stack", dir, len(stacks))
		}
		stacks[0].name = o.stackName
	}
	if o.delete {
		for i := len(stacks) - 1; i >= 0; i-- {
			if err := d.Delete(ctx, stacks[i].name); err != nil {
				return fmt.Errorf("delete stack %s: %w", stacks[i].name, err)
			}
			fmt.Fprintf(out, "stack %s deleted\n", stacks[i].name)
		}
		return nil
	}
	for _, s := range stacks {
		if err := deployFile(ctx, d, o, s.template, s.name, assets, out); err != nil {
			return fmt.Errorf("stack %s: %w", s.name, err)
		}
	}
	return nil
}

// watchDeploy deploys, then deploys again each time the files of the
// template's folder change, until ctx ends. A failed deploy is reported
// and the watch goes on.
func watchDeploy(ctx context.Context, o deployOptions, path string, out, errOut io.Writer, every time.Duration) error {
	root := path
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		root = filepath.Dir(path)
	}
	last, err := fingerprint(root)
	if err != nil {
		return err
	}
	deploy := func() {
		if err := runDeploy(ctx, o, path, out, "", ""); err != nil && ctx.Err() == nil {
			fmt.Fprintln(errOut, "lamb:", err)
		}
		fmt.Fprintf(out, "watching %s for changes (Ctrl-C to stop)\n", root)
	}
	deploy()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		fp, err := fingerprint(root)
		if err != nil {
			fmt.Fprintln(errOut, "lamb: watch:", err)
			continue
		}
		if fp == last {
			continue
		}
		last = fp
		fmt.Fprintln(out, "change detected: deploying again")
		deploy()
	}
}

// fingerprint sums the names, sizes and modification times of the files
// under root (not .git or .aws-sam).
func fingerprint(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == ".aws-sam") {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile: the next look sees it gone
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", p, fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}
