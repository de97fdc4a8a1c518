package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// endpointFlag adds --endpoint to a client command: the lamb server to talk to.
func endpointFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "endpoint", "http://127.0.0.1:3001", "lamb server URL")
}

// postInvoke POSTs payload to function name's op of the Lambda API of the
// given version: Invoke's or InvokeWithResponseStream's, which differ only in
// the path. With showLog it asks for the log tail.
func postInvoke(ctx context.Context, endpoint, version, op, name, qualifier string, payload []byte, showLog bool) (*http.Response, error) {
	u := fmt.Sprintf("%s/%s/functions/%s/%s", strings.TrimRight(endpoint, "/"), version, url.PathEscape(name), op)
	if qualifier != "" {
		u += "?Qualifier=" + url.QueryEscape(qualifier)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	if showLog {
		req.Header.Set("X-Amz-Log-Type", "Tail")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", name, err)
	}
	return resp, nil
}

func newInvokeCmd() *cobra.Command {
	var endpoint, payload, qualifier string
	var showLog, stream bool
	cmd := &cobra.Command{
		Use:   "invoke NAME",
		Short: "Invoke a function and print its response",
		Example: `  lamb invoke hello --payload '{"name":"world"}'
  lamb invoke hello --payload @event.json --log
  lamb invoke streamer --stream`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := readPayload(payload)
			if err != nil {
				return err
			}
			if stream { // stream.go
				return invokeStreaming(cmd.Context(), endpoint, args[0], qualifier, body, showLog, cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			resp, err := postInvoke(cmd.Context(), endpoint, "2015-03-31", "invocations", args[0], qualifier, body, showLog)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			out, err := io.ReadAll(resp.Body)
			if err != nil {
				return fmt.Errorf("invoke %s: reading response: %w", args[0], err)
			}
			if resp.StatusCode >= 300 {
				return apiError(resp, out)
			}
			if showLog {
				if l, err := base64.StdEncoding.DecodeString(resp.Header.Get("X-Amz-Log-Result")); err == nil {
					fmt.Fprint(cmd.ErrOrStderr(), string(l))
				}
			}
			w := cmd.OutOrStdout()
			w.Write(out)
			if len(out) > 0 && out[len(out)-1] != '\n' {
				fmt.Fprintln(w)
			}
			if fe := resp.Header.Get("X-Amz-Function-Error"); fe != "" {
				return fmt.Errorf("function error (%s)", fe)
			}
			return nil
		},
	}
	endpointFlag(cmd, &endpoint)
	cmd.Flags().StringVar(&payload, "payload", "", "event JSON, or @file to read it from a file (@- for stdin)")
	cmd.Flags().StringVar(&qualifier, "qualifier", "", "version or alias")
	cmd.Flags().BoolVar(&showLog, "log", false, "print the invocation's log tail to stderr")
	cmd.Flags().BoolVar(&stream, "stream", false, "use InvokeWithResponseStream and print chunks as they arrive")
	return cmd
}

func readPayload(p string) ([]byte, error) {
	switch {
	case p == "":
		return []byte("{}"), nil
	case p == "@-":
		return io.ReadAll(os.Stdin)
	case strings.HasPrefix(p, "@"):
		return os.ReadFile(p[1:])
	}
	return []byte(p), nil
}

// apiError turns an AWS-shaped error response into a readable error.
func apiError(resp *http.Response, body []byte) error {
	var e struct {
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e)
	msg := e.Message
	if msg == "" {
		msg = e.Message2
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	typ := resp.Header.Get("X-Amzn-ErrorType")
	if i := strings.IndexByte(typ, ':'); i >= 0 {
		typ = typ[:i]
	}
	return fmt.Errorf("%s (%d): %s", typ, resp.StatusCode, msg)
}

type instanceRow struct {
	ID           string    `json:"id"`
	FunctionName string    `json:"function"`
	Version      string    `json:"version"`
	Backend      string    `json:"backend"`
	State        string    `json:"state"`
	Started      time.Time `json:"started"`
	LastUsed     time.Time `json:"lastUsed"`
}

func newPsCmd() *cobra.Command {
	var endpoint string
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List warm function instances",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var rows []instanceRow
			if err := getJSON(cmd.Context(), endpoint+"/_lamb/instances", &rows); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FUNCTION\tVERSION\tINSTANCE\tBACKEND\tSTATE\tSTARTED\tLAST USED")
			now := time.Now()
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s ago\t%s ago\n", r.FunctionName, r.Version, r.ID, r.Backend,
					r.State, now.Sub(r.Started).Round(time.Second), now.Sub(r.LastUsed).Round(time.Second))
			}
			return tw.Flush()
		},
	}
	endpointFlag(cmd, &endpoint)
	return cmd
}

func newLogsCmd() *cobra.Command {
	var endpoint string
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print a function's recent log lines (START/END/REPORT and its output)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u := fmt.Sprintf("%s/_lamb/functions/%s/logs", strings.TrimRight(endpoint, "/"), url.PathEscape(args[0]))
			if follow {
				u += "?follow=true"
			}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, u, nil)
			if err != nil {
				return err
			}
			resp, err := httpClient.Do(req)
			if err != nil {
				return fmt.Errorf("logs: %w", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b, _ := io.ReadAll(resp.Body)
				return apiError(resp, b)
			}
			_, err = io.Copy(cmd.OutOrStdout(), resp.Body)
			if cmd.Context().Err() != nil {
				return nil // interrupted while following
			}
			return err
		},
	}
	endpointFlag(cmd, &endpoint)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines as they come")
	return cmd
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return apiError(resp, b)
	}
	return json.Unmarshal(b, v)
}
