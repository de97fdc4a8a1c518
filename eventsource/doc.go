// Package eventsource runs the pollers of Lambda event source mappings: it
// reads SQS queues, Kinesis streams and DynamoDB streams at an
// AWS-compatible endpoint (moto's server, LocalStack, ElasticMQ, AWS) and
// invokes each mapping's function with batches shaped as AWS shapes them.
//
// # Ownership
//
// A Manager owns every poller goroutine. Run blocks until its context ends
// and waits for all of them; Apply and Remove start, replace and stop one
// mapping's pollers, and never block on them. A poller holds at most one
// batch per concurrency slot (SQS: ScalingConfig.MaximumConcurrency; a
// stream: one batch per shard) and backs off on errors and empty polls.
//
// # Delivery
//
// SQS: a batch's messages are deleted when the function succeeds (with
// ReportBatchItemFailures, all but the failed ones); failed messages are
// left to the queue's visibility timeout and redrive policy. Messages the
// FilterCriteria drop are deleted, as on AWS. FIFO queues keep a message
// group in order because the queue hands out no message of a group while
// another of it is in flight.
//
// Streams: one poller per shard reads in order from TRIM_HORIZON, LATEST,
// AT_TIMESTAMP or the mapping's checkpoint, and moves the checkpoint (kept
// by the Host, durably) past a batch only once the function succeeded or
// the batch was given up (MaximumRetryAttempts, MaximumRecordAgeInSeconds;
// a given-up batch's record goes to an SQS OnFailure destination).
// After a crash the batch in flight runs again: delivery is at least once,
// as on AWS.
package eventsource
