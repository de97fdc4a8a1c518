// Package template deploys SAM and CloudFormation templates to lamb as
// stacks, through lamb's Lambda API (it imports nothing of lamb's server:
// lamb's state changes only through the API, which stays the one source of
// truth).
//
// # Parsing
//
// Parse and ParseFile read a template with goformation
// (github.com/awslabs/goformation/v7), JSON or YAML with CloudFormation's
// short forms, and keep the intrinsics in their long form: they are
// resolved at deploy time, when what they refer to is known.
//
// # Resolving
//
// An Evaluator resolves Parameters (overrides, defaults, Type,
// AllowedValues, AllowedPattern), Conditions, Mappings, the AWS:: pseudo
// parameters and the intrinsics (Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If,
// Fn::Select, Fn::Split, Fn::FindInMap, Fn::ImportValue, ...). Its errors
// are *Error values naming the resource (or parameter, condition, output),
// the property and the template line.
//
// # Deploying
//
// Deployer.Deploy resolves and checks every resource before it changes
// anything, then applies the template as a change set: new resources are
// created, changed ones updated, unchanged ones left alone, dropped ones
// deleted; a failure rolls back what the deploy did. Stack records go to a
// Stacks store (lamb's /_lamb/stacks API), Schedule events to a Schedules
// store (/_lamb/schedules). A Deployer is not safe for concurrent deploys of
// one stack.
package template
