print("bench-records placeholder")
