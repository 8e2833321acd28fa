"""Pages the areas share: an applicant's requests and notices, the same code for persons (/me) and employers."""
