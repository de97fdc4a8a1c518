VALUE = "cfn layer"
