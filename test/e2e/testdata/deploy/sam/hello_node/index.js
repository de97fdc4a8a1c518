exports.handler = async (event) => ({
  from: "node",
  peer: process.env.PEER,
  where: process.env.REGION_AND_ACCOUNT,
  az: process.env.FIRST_AZ,
  stage: process.env.STAGE,
  memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
});
