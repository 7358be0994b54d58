package billing

import "fmt"

// Scenario is the basic service a usage belongs to. Scenarios are labels for
// reports and for price books that price them differently; the Era 1 books
// price by tier only. The values are stored by Stores and never change.
type Scenario string

// The four basic scenarios of the Era 1 price books.
const (
	AudioLive Scenario = "audio-live" // audio interactive live streaming (audio ILVB)
	VideoLive Scenario = "video-live" // video interactive live streaming (video ILVB)
	AudioCall Scenario = "audio-call"
	VideoCall Scenario = "video-call"
)

// Tier is a billing category: audio, or a video resolution band. Which tiers
// exist, their bounds, prices and package ratios come from a [PriceBook]. The
// values are stored by Stores and never change.
type Tier string

// The tiers of the Era 1 price books, and the 2K and 4K tiers of later
// tables (the China site's recording of 2022); a book's table gives each
// its bounds.
const (
	TierAudio  Tier = "audio"
	TierSD     Tier = "sd"  // received stream ≤ 640×480 in area
	TierHD     Tier = "hd"  // ≤ 1280×720 in area
	TierFHD    Tier = "fhd" // above 1280×720 (also called UHD or HD+)
	Tier2K     Tier = "2k"
	Tier4K     Tier = "4k"
	Tier2KPlus Tier = "2k+" // Era 2's cloud recording, to 4096×2160
)

// Service is what a meter measures. Basic services are the four scenarios,
// metered together per tier. The values are stored by Stores and never change.
type Service string

// ServiceBasic is the audio/video duration of the four basic scenarios.
const ServiceBasic Service = "basic"

// Resolution is the width and height, in pixels, of a received video stream.
type Resolution struct {
	Width, Height int
}

// MaxDimension is the largest width or height a [Resolution] may have.
const MaxDimension = 1 << 16

// area returns Width×Height, or ErrInvalidResolution.
func (r Resolution) area() (int64, error) {
	if r.Width < 1 || r.Height < 1 || r.Width > MaxDimension || r.Height > MaxDimension {
		return 0, fmt.Errorf("%w: %dx%d pixels: a side is not in 1..%d", ErrInvalidResolution, r.Width, r.Height, MaxDimension)
	}
	return int64(r.Width) * int64(r.Height), nil
}
