exports.handler = async () => ({ from: "cdk node", peer: process.env.PEER });
