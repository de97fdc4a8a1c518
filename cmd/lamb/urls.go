package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// urlRow is one entry of GET /_lamb/urls.
type urlRow struct {
	URLID       string `json:"urlId"`
	FunctionArn string `json:"functionArn"`
	AuthType    string `json:"authType"`
	InvokeMode  string `json:"invokeMode"`
	// NotPublic lists what a NONE URL's resource policy lacks for AWS to
	// serve it; PolicyCheckOff: lamb serves it anyway (--urls-without-policy).
	NotPublic      []string `json:"notPublic"`
	PolicyCheckOff bool     `json:"policyCheckOff"`
	FunctionURL    string   `json:"functionUrl"`
	PathURL        string   `json:"pathUrl"`
}

func newURLsCmd() *cobra.Command {
	var endpoint string
	cmd := &cobra.Command{
		Use:   "urls",
		Short: "List function URLs with the local address to curl",
		Long: `List every function URL config with two local addresses: the host-name form
(http://<url-id>.lambda-url.<region>.localhost:<port>/, which resolves to the
loopback on most systems) and the path form (/_lamb/urls/<url-id>/) for clients
that cannot resolve *.localhost.

PUBLIC says whether anyone may call a URL with AuthType NONE: as AWS since
October 2025, only when the function's (or alias's) resource policy allows
both lambda:InvokeFunctionUrl (condition lambda:FunctionUrlAuthType NONE) and
lambda:InvokeFunction to "*"; otherwise the URL answers 403 Forbidden and
PUBLIC says what the policy lacks. Grant them with

  aws lambda add-permission --function-name F --statement-id url \
    --action lambda:InvokeFunctionUrl --principal '*' --function-url-auth-type NONE
  aws lambda add-permission --function-name F --statement-id invoke \
    --action lambda:InvokeFunction --principal '*' --invoked-via-function-url

(add --qualifier for an alias's URL), or serve with --urls-without-policy.
AWS_IAM URLs show "-": their callers are checked per request.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var rows []urlRow
			if err := getJSON(cmd.Context(), strings.TrimRight(endpoint, "/")+"/_lamb/urls", &rows); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FUNCTION\tAUTH\tMODE\tPUBLIC\tURL\tPATH URL")
			for _, r := range rows {
				fn := r.FunctionArn
				if i := strings.Index(fn, ":function:"); i >= 0 {
					fn = fn[i+len(":function:"):]
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", fn, r.AuthType, r.InvokeMode, publicColumn(r), r.FunctionURL, r.PathURL)
			}
			return tw.Flush()
		},
	}
	endpointFlag(cmd, &endpoint)
	return cmd
}

// publicColumn is the PUBLIC column of r: "yes", "-" for AWS_IAM, or "no"
// with what the resource policy lacks ("yes" with it when the server serves
// such URLs anyway).
func publicColumn(r urlRow) string {
	switch {
	case r.AuthType != "NONE":
		return "-"
	case len(r.NotPublic) == 0:
		return "yes"
	case r.PolicyCheckOff:
		return "yes (--urls-without-policy; " + strings.Join(r.NotPublic, "; ") + ")"
	default:
		return "no: " + strings.Join(r.NotPublic, "; ")
	}
}
