"""The interviewer agent: tools, the Greeting Guard, and the runtime binding them to the Director."""
